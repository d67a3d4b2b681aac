"""Shared utilities.

Typed CLIs from pyproject tables, atomic HDF5 I/O, segments, timeslide
arithmetic, logging.
"""
