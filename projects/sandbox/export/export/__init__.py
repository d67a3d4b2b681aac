"""export.

write the trained network as a Triton model repository with hermes.quiver.
"""
