"""Typed HDF5 record sets for aframe artifacts."""
