"""The per-batch augmentation: raw background samples → whitened kernels and labels.

Runs on the model's device (``on_after_batch_transfer``), seeded by the batch
index. Steps, for raw samples ``(B, ifo, psd_size + window_size)``:

1. PSD of each sample's first ``psd_length`` s (``Preprocessor.psd``).
2. The window of background is sign-inverted and time-reversed, each with its
   probability, independently per channel.
3. A sample receives a signal with probability ``p_inject``. Each injected
   sample is independently *swapped* (one random channel's signal replaced by
   that channel of another signal from another sky position, so the detectors
   disagree) with ``swap_prob`` and *muted* (one random channel's signal
   removed) with ``mute_prob``. Swapped or muted samples are labelled 0: the
   network must learn coherence and coincidence, not single-detector power.
   A sample is positive iff injected and neither swapped nor muted, so
   ``P(y = 1) = p_inject (1 - swap_prob)(1 - mute_prob)``, and
   ``p_inject = waveform_prob / ((1 - swap_prob)(1 - mute_prob))`` makes the
   positive fraction *equal* ``waveform_prob`` (reference §12.8).
4. Each signal is projected from a random sky position, scaled to a target SNR
   from the curriculum against the reference PSD of the background segment
   its sample came from (``aframe.architectures.snr``: the test injections'
   definition) and placed in the signal region. A swapped sample's second
   source gets the same SNR and coalescence time, so only coherence tells it
   apart.
5. The windows are whitened with their PSDs (``Preprocessor.whiten``).

Glitches (``sampling.GlitchSampler``) were already put into the raw samples by
the data loader; they never change a label.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from aframe.architectures import Preprocessor
from train.curriculum import SnrSchedule
from train.injection import SignalInjector
from train.seeds import seeded
from train.waveforms import WaveformBank


def injection_probability(
    waveform_prob: float, swap_prob: float, mute_prob: float
) -> float:
    """Probability of injecting so that the positive fraction is ``waveform_prob``.

    Args:
        waveform_prob: wanted fraction of positive (coherent signal) samples
        swap_prob: fraction of injected samples swapped (labelled 0)
        mute_prob: fraction of injected samples muted (labelled 0)

    Returns:
        ``waveform_prob / ((1 - swap_prob)(1 - mute_prob))``
    """
    for name, p in (("swap_prob", swap_prob), ("mute_prob", mute_prob)):
        if not 0 <= p < 1:
            raise ValueError(f"{name} must lie in [0, 1), got {p}")
    if not 0 <= waveform_prob <= 1:
        raise ValueError(f"waveform_prob must lie in [0, 1], got {waveform_prob}")
    p = waveform_prob / ((1 - swap_prob) * (1 - mute_prob))
    if p > 1:
        raise ValueError(
            f"waveform_prob = {waveform_prob} cannot be reached with swap_prob = "
            f"{swap_prob} and mute_prob = {mute_prob}: it needs an injection "
            f"probability of {p:.3f} > 1"
        )
    return p


class Augmentor(torch.nn.Module):
    """Turn raw background samples into whitened training kernels and labels.

    Args:
        preprocessor: the preprocessing module
        injector: projection, SNR rescaling and placement
        waveforms: the training polarisations (cross, plus): a bank, or an
            (N, 2, T) array
        schedule: target SNRs per batch
        reference_psd: (segments, ifo, F) the reference PSD of every training
            background segment, which defines injected SNRs
        waveform_prob: the fraction of positive samples
        swap_prob: probability an injected sample is swapped (label 0)
        mute_prob: probability an injected sample is muted (label 0)
        invert_prob: probability a background channel is sign-inverted
        reverse_prob: probability a background channel is time-reversed
        seed: the run's seed (with the batch index and rank, seeds every draw)
    """

    def __init__(
        self,
        preprocessor: Preprocessor,
        injector: SignalInjector,
        waveforms: WaveformBank | np.ndarray,
        schedule: SnrSchedule,
        reference_psd: Tensor,
        waveform_prob: float,
        swap_prob: float,
        mute_prob: float,
        invert_prob: float,
        reverse_prob: float,
        seed: int,
    ) -> None:
        super().__init__()
        self.preprocessor = preprocessor
        self.injector = injector
        if not isinstance(waveforms, WaveformBank):
            waveforms = WaveformBank(np.asarray(waveforms, dtype=np.float32))
        self.bank = waveforms
        self.schedule = schedule
        self.register_buffer("reference_psd", reference_psd.double(), persistent=False)
        self.inject_prob = injection_probability(waveform_prob, swap_prob, mute_prob)
        self.waveform_prob = waveform_prob
        self.swap_prob = swap_prob
        self.mute_prob = mute_prob
        self.invert_prob = invert_prob
        self.reverse_prob = reverse_prob
        self.seed = seed

    def forward(
        self, x: Tensor, segment: Tensor, step: int, rank: int = 0
    ) -> tuple[Tensor, Tensor, Tensor]:
        """Augment one batch.

        Args:
            x: (B, ifo, psd_size + window_size) raw strain
            segment: (B, ifo) int64 background segment of each channel
            step: the batch's global index (seeds the draws, sets the curriculum)
            rank: the process's rank (distinct draws per process)

        Returns:
            (B, ifo, kernel_size) whitened kernels, (B, 1) float labels and
            (B, 1) the network SNR of each positive's signal (0 for the rest)
        """
        # full precision whatever the training precision: PSDs and SNRs
        # of strain need it
        with (
            seeded(self.seed, "augment", rank, step),
            torch.autocast(x.device.type, enabled=False),
        ):
            return self._augment(x, segment, step)

    def reference(self, segment: Tensor) -> Tensor:
        """(n, ifo, F) reference PSDs of channels from these segments.

        Args:
            segment: (n, ifo) int64 segment of each channel
        """
        ifo = torch.arange(segment.shape[1], device=segment.device)
        return self.reference_psd[segment.to(self.reference_psd.device), ifo]

    def _augment(
        self, x: Tensor, segment: Tensor, step: int
    ) -> tuple[Tensor, Tensor, Tensor]:
        config = self.preprocessor.config
        device = x.device
        batch, num_ifos = x.shape[:2]
        psd = self.preprocessor.psd(x[..., : config.psd_size])
        window = x[..., config.psd_size :].clone()

        invert = (torch.rand(batch, num_ifos) < self.invert_prob).to(device)
        window = torch.where(invert[..., None], -window, window)
        reverse = (torch.rand(batch, num_ifos) < self.reverse_prob).to(device)
        window = torch.where(reverse[..., None], window.flip(-1), window)

        injected = torch.rand(batch) < self.inject_prob
        labels = torch.zeros(batch)
        snr = torch.zeros(batch)
        index = injected.nonzero()[:, 0]
        n = len(index)
        if n:
            bank = self.bank.get(step, device)
            swapped = torch.rand(n) < self.swap_prob
            muted = torch.rand(n) < self.mute_prob
            chosen = torch.randint(len(bank), (n,))
            target = self.schedule.sample(n, step)
            positions = self.injector.draw_positions(n)
            sky = self.injector.random_sky(n)
            psd_injected = self.reference(segment[index.to(segment.device)])
            signals = self.injector.inject(
                bank[chosen.to(device)], sky, psd_injected, target, positions
            )
            swap = swapped.nonzero()[:, 0]
            if len(swap):
                # another source, as loud and at the same time, in one detector
                others = torch.randint(len(bank), (len(swap),))
                other = self.injector.inject(
                    bank[others.to(device)],
                    self.injector.random_sky(len(swap)),
                    psd_injected[swap.to(device)],
                    target[swap],
                    positions[swap],
                )
                channel = torch.randint(num_ifos, (len(swap),)).to(device)
                rows = torch.arange(len(swap), device=device)
                signals[swap.to(device), channel] = other[rows, channel]
            mute = muted.nonzero()[:, 0]
            if len(mute):
                channel = torch.randint(num_ifos, (len(mute),))
                signals[mute.to(device), channel.to(device)] = 0
            window[index.to(device)] += signals
            labels[index] = (~swapped & ~muted).float()
            snr[index] = target * labels[index]
        kernels = self.preprocessor.whiten(window, psd)
        return kernels, labels[:, None].to(device), snr[:, None].to(device)
