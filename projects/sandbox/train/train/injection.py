"""Project signals onto the detectors, scale them to an SNR, place them in windows.

- Sky: declination ~ cos, polarisation ψ ~ U(0, π), φ (right ascension relative
  to the geocentre, no sidereal time: the network only learns the geometry)
  ~ U(0, 2π). Antenna patterns come from ``ml4gw.gw.compute_antenna_responses``
  with ``ml4gw.gw.get_ifo_geometry``; the light-travel delay from the geocentre
  is a whole number of samples, truncated as ``ml4gw.gw.shift_responses`` does.
- SNR: the network SNR of the *whole* projected waveform
  (``aframe.architectures.snr``, the test injections' definition) against the
  reference PSD of the background it goes into (median Welch over its whole
  segment), never the few seconds of PSD that whiten the sample: those are
  noisy, and ``E[1/Ŝ] > 1/S`` would make every training signal quieter than
  its nominal SNR. The response is multiplied by ``target / ρ``.
- Placement: the coalescence lands uniformly on a whole sample inside the
  kernel, at least ``left_pad`` s after its start and ``right_pad`` s before its
  end (the "signal region"; validation views sweep the same region). Only the
  part of each detector's (delayed) response inside the unwhitened window is
  built, zero where the waveform has no samples.
"""

from __future__ import annotations

import math

import torch
from ml4gw.constants import C
from ml4gw.distributions import Cosine
from ml4gw.gw import compute_antenna_responses, get_ifo_geometry
from torch import Tensor

from aframe.architectures import PreprocessingConfig
from aframe.architectures.snr import network_snr

#: polarisation order of every (n, 2, T) waveform tensor
POLARIZATIONS = ("cross", "plus")


class Sky:
    """Sky positions and what they imply for each detector.

    Attributes:
        antenna: (n, 2, ifo) antenna factors of (cross, plus)
        delays: (n, ifo) int64 light-travel delays from the geocentre, samples
    """

    def __init__(self, antenna: Tensor, delays: Tensor) -> None:
        self.antenna = antenna
        self.delays = delays

    def __getitem__(self, index: Tensor) -> Sky:
        return Sky(self.antenna[index], self.delays[index])


class SignalInjector(torch.nn.Module):
    """Sky projection, SNR rescaling and placement of signals.

    Args:
        config: preprocessing (ifos, sample rate, sizes, highpass)
        coalescence_sample: index of the coalescence in each waveform
        left_pad: least time from the kernel's start to the coalescence, s
        right_pad: least time from the coalescence to the kernel's end, s
    """

    def __init__(
        self,
        config: PreprocessingConfig,
        coalescence_sample: int,
        left_pad: float,
        right_pad: float,
    ) -> None:
        super().__init__()
        fs = config.sample_rate
        if left_pad < 0 or right_pad < 0:
            raise ValueError(
                f"left_pad {left_pad} and right_pad {right_pad} must be ≥ 0"
            )
        if left_pad + right_pad >= config.kernel_length:
            raise ValueError(
                f"left_pad + right_pad = {left_pad + right_pad} s leaves no room for "
                f"the coalescence in a {config.kernel_length} s kernel"
            )
        self.config = config
        self.coalescence_sample = coalescence_sample
        # coalescence position, in samples from the start of the unwhitened window
        self.first = config.pad_size + int(math.ceil(left_pad * fs - 1e-9))
        self.last = (
            config.pad_size
            + config.kernel_size
            - 1
            - int(math.ceil(right_pad * fs - 1e-9))
        )
        tensors, vertices = get_ifo_geometry(*config.ifos)
        self.register_buffer("tensors", tensors, persistent=False)
        self.register_buffer("vertices", vertices, persistent=False)

    # ---- random draws (global CPU generator) -------------------------------
    def draw_positions(self, n: int) -> Tensor:
        """Coalescence positions in the window, uniform over the signal region.

        Returns:
            (n,) int64 sample indices
        """
        return torch.randint(self.first, self.last + 1, (n,))

    def view_positions(self, num_views: int) -> Tensor:
        """``num_views`` positions evenly spanning the signal region (int64)."""
        return torch.linspace(self.first, self.last, num_views).round().long()

    def draw_sky(self, n: int) -> tuple[Tensor, Tensor, Tensor]:
        """Isotropic sky positions and polarisation angles.

        Returns:
            (n,) declination, ψ and φ in radians, on the CPU
        """
        dec = Cosine().sample((n,))
        psi = torch.rand(n) * torch.pi
        phi = torch.rand(n) * 2 * torch.pi
        return dec, psi, phi

    # ---- geometry -----------------------------------------------------------
    def sky(self, dec: Tensor, psi: Tensor, phi: Tensor) -> Sky:
        """Antenna factors and delays of sources at these positions.

        Args:
            dec: (n,) declination, rad
            psi: (n,) polarisation angle, rad
            phi: (n,) right ascension relative to the geocentre, rad

        Returns:
            the per-detector geometry, on the injector's device
        """
        device = self.tensors.device
        dec, psi, phi = (v.to(device, torch.float32) for v in (dec, psi, phi))
        theta = torch.pi / 2 - dec
        antenna = compute_antenna_responses(
            theta, psi, phi, self.tensors, list(POLARIZATIONS)
        ).float()
        # the same geometry and truncation as ml4gw.gw.shift_responses
        omega = torch.stack(
            [
                torch.sin(theta) * torch.cos(phi),
                torch.sin(theta) * torch.sin(phi),
                torch.cos(theta),
            ],
            dim=-1,
        )
        seconds = -(omega[:, None, :] * self.vertices.float()[None]).sum(-1) / C
        delays = torch.trunc(seconds * self.config.sample_rate).long()
        return Sky(antenna, delays)

    def random_sky(self, n: int) -> Sky:
        """Geometry of ``n`` random sources."""
        return self.sky(*self.draw_sky(n))

    # ---- SNR ------------------------------------------------------------------
    def snr(self, polarizations: Tensor, sky: Sky, psd: Tensor) -> Tensor:
        """Network SNR of each projected signal (``aframe.architectures.snr``).

        Args:
            polarizations: (n, 2, T) waveforms (cross, plus)
            sky: their geometry
            psd: (n, ifo, F) the PSDs that define their loudness, on a grid
                from 0 to Nyquist (the reference PSDs of the background they
                go into)

        Returns:
            (n,) float32 network SNRs
        """
        # a delay does not change |h̃(f)|², so the undelayed projection will do
        antenna = sky.antenna.to(polarizations.device, polarizations.dtype)
        responses = torch.einsum("npt,npi->nit", polarizations, antenna)
        return network_snr(
            responses,
            psd.to(polarizations.device),
            self.config.sample_rate,
            self.config.highpass,
        )

    # ---- the window -------------------------------------------------------------
    def responses(
        self,
        polarizations: Tensor,
        sky: Sky,
        positions: Tensor,
        size: int | None = None,
    ) -> Tensor:
        """Each detector's response inside a stretch of ``size`` samples.

        Args:
            polarizations: (n, 2, T) waveforms (cross, plus) with the coalescence
                at ``coalescence_sample``
            sky: their geometry
            positions: (n,) coalescence sample in the stretch (int64), at the
                geocentre
            size: samples of the stretch (default: the unwhitened window)

        Returns:
            (n, ifo, size) strain, zero where the waveform has no samples
        """
        n, _, length = polarizations.shape
        num_ifos = sky.delays.shape[1]
        window = self.config.window_size if size is None else size
        device = polarizations.device
        # window sample j of detector i shows waveform sample c - p + j - delay_i
        start = self.coalescence_sample - positions.to(device)
        index = (
            start[:, None, None]
            - sky.delays.to(device)[:, :, None]
            + torch.arange(window, device=device)
        )  # (n, ifo, W)
        inside = (index >= 0) & (index < length)
        index = index.clamp(0, length - 1)
        gathered = torch.gather(
            polarizations[:, :, None, :].expand(n, 2, num_ifos, length),
            3,
            index[:, None].expand(n, 2, num_ifos, window),
        )  # (n, pol, ifo, W)
        out = (gathered * sky.antenna.to(device)[..., None]).sum(dim=1)
        return out * inside

    def inject(
        self,
        polarizations: Tensor,
        sky: Sky,
        psd: Tensor,
        target: Tensor,
        positions: Tensor,
        size: int | None = None,
    ) -> Tensor:
        """Responses scaled to ``target`` network SNRs against ``psd``.

        Args:
            polarizations: (n, 2, T) waveforms
            sky: their geometry
            psd: (n, ifo, F) the reference PSDs that define their loudness
            target: (n,) network SNRs wanted
            positions: (n,) coalescence samples in the stretch
            size: samples of the stretch (default: the unwhitened window)

        Returns:
            (n, ifo, size) scaled strain
        """
        snr = self.snr(polarizations, sky, psd)
        scale = target.to(snr.device) / snr.clamp_min(1e-12)
        placed = self.responses(polarizations, sky, positions, size)
        return placed * scale[:, None, None]
