"""Target network SNRs of training injections: a power law with a decaying floor.

Targets follow p(ρ) ∝ ρ^index on [minimum, max_snr] (index -3: sources uniform
in volume). The minimum starts at ``max_min_snr`` and falls linearly to
``min_snr`` over ``decay_steps`` batches, then stays there: the network first
sees loud signals, then ever fainter ones. ``decay_steps = 0`` is a fixed power
law on [min_snr, max_snr].
"""

from __future__ import annotations

import torch
from ml4gw.distributions import PowerLaw


class SnrSchedule:
    """The SNR curriculum.

    Args:
        max_min_snr: the minimum target SNR at the first batch
        min_snr: the minimum target SNR after ``decay_steps`` batches
        max_snr: the largest target SNR
        decay_steps: batches over which the minimum decays (0: no curriculum)
        index: power-law index of p(ρ)
    """

    def __init__(
        self,
        max_min_snr: float,
        min_snr: float,
        max_snr: float,
        decay_steps: int,
        index: float = -3.0,
    ) -> None:
        if not 0 < min_snr <= max_min_snr < max_snr:
            raise ValueError(
                "SNR curriculum needs 0 < min_snr <= max_min_snr < max_snr, got "
                f"min_snr={min_snr}, max_min_snr={max_min_snr}, max_snr={max_snr}"
            )
        if decay_steps < 0:
            raise ValueError(f"snr_decay_steps must be ≥ 0, got {decay_steps}")
        if index == 0:
            raise ValueError("snr_index 0 is a uniform distribution; use ≠ 0")
        self.max_min_snr = max_min_snr
        self.min_snr = min_snr
        self.max_snr = max_snr
        self.decay_steps = decay_steps
        self.index = index

    def minimum(self, step: int) -> float:
        """The smallest target SNR at batch ``step``."""
        if self.decay_steps == 0:
            return self.min_snr
        fraction = min(step / self.decay_steps, 1.0)
        return self.max_min_snr - (self.max_min_snr - self.min_snr) * fraction

    def mean(self, step: int) -> float:
        """Analytic mean of the target distribution at batch ``step``."""
        a, b, k = self.minimum(step), self.max_snr, self.index
        if k == -1:
            return (b - a) / (torch.log(torch.tensor(b / a))).item()
        if k == -2:
            return (torch.log(torch.tensor(b / a))).item() / (1 / a - 1 / b)
        norm = (b ** (k + 1) - a ** (k + 1)) / (k + 1)
        return (b ** (k + 2) - a ** (k + 2)) / (k + 2) / norm

    def sample(self, n: int, step: int) -> torch.Tensor:
        """Draw ``n`` targets (global CPU generator) for batch ``step``.

        Returns:
            (n,) float32 SNRs on the CPU
        """
        low = self.minimum(step)
        if low >= self.max_snr:
            return torch.full((n,), float(self.max_snr))
        return PowerLaw(low, self.max_snr, self.index).sample((n,)).float()
