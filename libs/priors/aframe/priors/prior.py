"""``Prior``: a bilby prior dictionary plus what aframe needs to know about it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from bilby.core.prior import PriorDict

#: log density of (mass_1, mass_2) in the frame of the prior's mass keys
MassLogProb = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Prior:
    """A named population of binary black holes.

    Attributes:
        name: the name ``get_prior`` knows it by
        prior_dict: bilby priors over ``mass_1``, ``mass_2``, ``redshift``,
            spins and angles (``Constraint`` entries restrict the masses)
        detector_frame: whether ``mass_1``/``mass_2`` in ``prior_dict`` are
            detector-frame masses (otherwise source-frame; ``sample``
            returns both)
        mass_log_prob: normalised log density of (mass_1, mass_2) in the
            frame of ``prior_dict``, constraints included, M☉⁻²
        description: the physics in one paragraph
    """

    name: str
    prior_dict: PriorDict
    detector_frame: bool
    mass_log_prob: MassLogProb
    description: str = ""
