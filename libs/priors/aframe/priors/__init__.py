"""bilby prior dictionaries and cosmology for aframe."""
