"""The one exception every ledger reader and validator raises."""

from __future__ import annotations

from aframe.utils.io import ArtifactError


class LedgerError(ArtifactError, ValueError):
    """A record set (in memory or on disk) that breaks its type's contract.

    The message starts with the file name when the set was read from disk (or
    the type name otherwise) and names the offending field or attribute, e.g.
    ``waveforms.hdf5: parameters/snr has 10 records, expected 12``.

    Subclasses both ``ValueError`` and ``aframe.utils.io.ArtifactError`` so
    callers catching either see it.
    """
