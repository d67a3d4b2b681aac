"""train.

a 1D ResNet BBH detector trained with Lightning on whitened two-detector strain.
"""
