"""Typed HDF5 record sets for aframe artifacts.

See ``docs/artifacts.md`` for the layout of each type.
"""

from aframe.ledger.candidates import CandidateSet
from aframe.ledger.errors import LedgerError
from aframe.ledger.events import EventSet
from aframe.ledger.glitches import GlitchSet
from aframe.ledger.injections import (
    EXTRINSIC_PARAMETERS,
    InjectionSet,
    RejectedParameterSet,
)
from aframe.ledger.recordset import LEDGER_TYPES, RecordSet, read_any
from aframe.ledger.recovered import RecoveredInjectionSet
from aframe.ledger.signals import SignalScoreSet
from aframe.ledger.waveforms import SOURCE_PARAMETERS, WAVEFORM_ATTRS, WaveformSet

__all__ = [
    "EXTRINSIC_PARAMETERS",
    "LEDGER_TYPES",
    "SOURCE_PARAMETERS",
    "WAVEFORM_ATTRS",
    "CandidateSet",
    "EventSet",
    "GlitchSet",
    "InjectionSet",
    "LedgerError",
    "RecordSet",
    "RecoveredInjectionSet",
    "RejectedParameterSet",
    "SignalScoreSet",
    "WaveformSet",
    "read_any",
]
