"""Project signals onto the detectors, scale them to an SNR, place them in windows.

- Sky: declination ~ cos, polarisation ψ ~ U(0, π), φ (right ascension relative
  to the geocentre, no sidereal time: the network only learns the geometry)
  ~ U(0, 2π). Antenna patterns come from ``ml4gw.gw.compute_antenna_responses``
  with ``ml4gw.gw.get_ifo_geometry``; the light-travel delay from the geocentre
  is a whole number of samples, truncated as ``ml4gw.gw.shift_responses`` does.
- SNR: the network SNR of the *whole* projected waveform against the PSD of the
  sample it goes into (resampled onto the waveform's frequency grid), above
  ``highpass``; the response is multiplied by ``target / ρ``. This is the SNR
  of ``ml4gw.gw.compute_network_snr`` (the test injections' convention),
  computed without building the full-length responses: a delay does not
  change |h̃(f)|², so each detector's power is
  ``F×² |h̃×|² + F+² |h̃+|² + 2 F× F+ Re(h̃× h̃+*)`` from the polarisations' spectra.
  The FFTs run in float32 on waveforms divided by their peak amplitude, the PSD
  divided by the same scale squared (tests compare with ml4gw).
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
from aframe.architectures.spectral import interpolate_psd

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
        """Network SNR of each projected signal against its own PSD.

        Args:
            polarizations: (n, 2, T) waveforms (cross, plus)
            sky: their geometry
            psd: (n, ifo, F) PSDs on a grid from 0 to Nyquist

        Returns:
            (n,) float32 network SNRs
        """
        fs = self.config.sample_rate
        size = polarizations.shape[-1]
        scale = polarizations.abs().amax(dim=(1, 2), keepdim=True).float()
        scale = torch.where(scale > 0, scale, torch.ones_like(scale))
        spectra = torch.fft.rfft(polarizations.float() / scale, dim=-1)
        cross, plus = spectra[:, 0], spectra[:, 1]
        power = torch.stack(
            [
                cross.real.square() + cross.imag.square(),
                plus.real.square() + plus.imag.square(),
                (cross * plus.conj()).real,
            ],
            dim=1,
        )  # (n, 3, F_T)
        f_cross, f_plus = sky.antenna[:, 0], sky.antenna[:, 1]  # (n, ifo)
        weights = torch.stack(
            [f_cross.square(), f_plus.square(), 2 * f_cross * f_plus], dim=1
        )
        # (n, ifo, F_T): each detector's |rfft|² of the scaled response
        response_power = torch.einsum("nkf,nki->nif", power, weights)
        psd = interpolate_psd(psd.double(), size // 2 + 1)
        scaled_psd = (psd / scale.double().square()).float()
        if self.config.highpass is not None:
            freqs = torch.fft.rfftfreq(size, 1 / fs, device=psd.device)
            response_power = response_power * (freqs >= self.config.highpass)
        # ρ² = 4 Σ |h̃|² / S df with |h̃| = |rfft| / fs and df = fs / T
        rho2 = 4 / (fs * size) * (response_power / scaled_psd).sum(dim=(1, 2))
        return rho2.clamp_min(0).sqrt()

    # ---- the window -------------------------------------------------------------
    def responses(self, polarizations: Tensor, sky: Sky, positions: Tensor) -> Tensor:
        """Each detector's response inside the window.

        Args:
            polarizations: (n, 2, T) waveforms (cross, plus) with the coalescence
                at ``coalescence_sample``
            sky: their geometry
            positions: (n,) coalescence sample in the window (int64), at the
                geocentre

        Returns:
            (n, ifo, window_size) strain, zero where the waveform has no samples
        """
        n, _, size = polarizations.shape
        num_ifos = sky.delays.shape[1]
        window = self.config.window_size
        device = polarizations.device
        # window sample j of detector i shows waveform sample c - p + j - delay_i
        start = self.coalescence_sample - positions.to(device)
        index = (
            start[:, None, None]
            - sky.delays.to(device)[:, :, None]
            + torch.arange(window, device=device)
        )  # (n, ifo, W)
        inside = (index >= 0) & (index < size)
        index = index.clamp(0, size - 1)
        gathered = torch.gather(
            polarizations[:, :, None, :].expand(n, 2, num_ifos, size),
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
    ) -> Tensor:
        """Window responses scaled to ``target`` network SNRs against ``psd``.

        Args:
            polarizations: (n, 2, T) waveforms
            sky: their geometry
            psd: (n, ifo, F) the PSDs of the samples they go into
            target: (n,) network SNRs wanted
            positions: (n,) coalescence samples in the window

        Returns:
            (n, ifo, window_size) scaled strain
        """
        snr = self.snr(polarizations, sky, psd)
        scale = target.to(snr.device) / snr.clamp_min(1e-12)
        return self.responses(polarizations, sky, positions) * scale[:, None, None]
