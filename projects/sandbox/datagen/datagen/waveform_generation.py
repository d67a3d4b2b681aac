"""Plus and cross polarisations of compact-binary signals, aligned on a grid.

Every waveform is ``duration`` seconds long with the coalescence (the
approximant's ``t = 0``) exactly on sample ``round(coalescence_time *
sample_rate)``; the start is tapered with a half-Hann window of
``taper_length`` seconds, since a signal longer than the window is cut there.

Two generators:

- ``lalsimulation`` (default): ``SimInspiralChooseTDWaveform``, one signal at
  a time, with lalsimulation's own conditioning of frequency-domain
  approximants; spins go from bilby's parameters to lalsimulation's with
  ``bilby_to_lalsimulation_spins`` at the reference frequency. About 4 ms per
  8 s IMRPhenomPv2 signal at 2048 Hz on one core.
- ``ml4gw``: ml4gw's batched torch ``TimeDomainCBCWaveformGenerator``
  (IMRPhenomD, IMRPhenomPv2, TaylorF2), worthwhile on a GPU; on a CPU it is
  about 8 times slower than lalsimulation. For precessing spins its
  IMRPhenomPv2 overlaps lalsimulation's by more than 0.9999; with exactly
  zero in-plane spins the two differ by a phase convention.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import numpy as np

logger = logging.getLogger(__name__)

GENERATORS = ("lalsimulation", "ml4gw")
"""the waveform generators ``generate_polarizations`` can use"""

PRECESSING_SPINS = ("a_1", "a_2", "tilt_1", "tilt_2", "phi_12", "phi_jl")
ALIGNED_SPINS = ("chi_1", "chi_2")
REQUIRED = ("mass_1", "mass_2", "luminosity_distance", "theta_jn", "phase")


class WaveformError(ValueError):
    """Waveform settings or parameters that cannot make a waveform."""


def lal_approximant(name: str) -> int:
    """lalsimulation's code for an approximant name.

    Args:
        name: e.g. ``IMRPhenomPv2``

    Returns:
        the approximant's enum value
    """
    import lalsimulation

    try:
        return lalsimulation.GetApproximantFromString(name)
    except RuntimeError as err:
        raise WaveformError(
            f"approximant {name!r} is not known to lalsimulation"
        ) from err


def check_parameters(parameters: Mapping[str, np.ndarray]) -> int:
    """Check that ``parameters`` can make waveforms; return their number.

    Args:
        parameters: name → (N,) array; detector-frame ``mass_1``/``mass_2``
            (solar masses), ``luminosity_distance`` (Mpc), ``theta_jn``,
            ``phase`` (rad) and either precessing spins (``a_1, a_2, tilt_1,
            tilt_2, phi_12, phi_jl``) or aligned spins (``chi_1, chi_2``)

    Returns:
        N
    """
    missing = [k for k in REQUIRED if k not in parameters]
    has_precessing = all(k in parameters for k in PRECESSING_SPINS)
    has_aligned = all(k in parameters for k in ALIGNED_SPINS)
    if not (has_precessing or has_aligned):
        missing += [k for k in PRECESSING_SPINS if k not in parameters]
    if missing:
        raise WaveformError(
            f"waveform parameters {', '.join(missing)} missing (have "
            f"{', '.join(sorted(parameters))})"
        )
    sizes = {len(np.atleast_1d(parameters[k])) for k in REQUIRED}
    if len(sizes) != 1:
        raise WaveformError(f"waveform parameters have different lengths {sizes}")
    return sizes.pop()


def start_taper(
    num_samples: int, sample_rate: float, taper_length: float
) -> np.ndarray:
    """The window that tapers a waveform's start.

    Args:
        num_samples: samples per waveform
        sample_rate: Hz
        taper_length: seconds over which the window rises from 0 to 1

    Returns:
        (num_samples,) window: half a Hann window over ``taper_length``, then 1
    """
    window = np.ones(num_samples)
    n = min(int(round(taper_length * sample_rate)), num_samples)
    if n > 0:
        window[:n] = 0.5 * (1 - np.cos(np.pi * np.arange(n) / n))
    return window


def coalescence_index(
    duration: float, coalescence_time: float, sample_rate: float
) -> int:
    """The sample of the coalescence, checked to lie inside the waveform.

    Args:
        duration: waveform length, seconds
        coalescence_time: seconds from the first sample to the coalescence
        sample_rate: Hz

    Returns:
        ``round(coalescence_time * sample_rate)``
    """
    if not 0 < coalescence_time <= duration:
        raise WaveformError(
            f"coalescence_time {coalescence_time} s must lie in (0, {duration}] s "
            "(the waveform duration)"
        )
    return int(round(coalescence_time * sample_rate))


def lal_spins(
    parameters: Mapping[str, np.ndarray], i: int, reference_frequency: float
) -> tuple[float, ...]:
    """Inclination and Cartesian spins of draw ``i`` for lalsimulation.

    Args:
        parameters: the draws (see ``check_parameters``)
        i: which draw
        reference_frequency: Hz, where the spin angles are defined

    Returns:
        ``(iota, s1x, s1y, s1z, s2x, s2y, s2z)``
    """
    import lal
    from bilby.gw.conversion import bilby_to_lalsimulation_spins

    needed = (*REQUIRED, *PRECESSING_SPINS, *ALIGNED_SPINS)
    p = {k: float(parameters[k][i]) for k in needed if k in parameters}
    if all(k in p for k in PRECESSING_SPINS):
        return bilby_to_lalsimulation_spins(
            theta_jn=p["theta_jn"],
            phi_jl=p["phi_jl"],
            tilt_1=p["tilt_1"],
            tilt_2=p["tilt_2"],
            phi_12=p["phi_12"],
            a_1=p["a_1"],
            a_2=p["a_2"],
            mass_1=p["mass_1"] * lal.MSUN_SI,
            mass_2=p["mass_2"] * lal.MSUN_SI,
            reference_frequency=reference_frequency,
            phase=p["phase"],
        )
    return (p["theta_jn"], 0.0, 0.0, p["chi_1"], 0.0, 0.0, p["chi_2"])


def lal_waveform(
    parameters: Mapping[str, np.ndarray],
    i: int,
    sample_rate: float,
    minimum_frequency: float,
    reference_frequency: float,
    approximant: int,
) -> tuple[np.ndarray, np.ndarray, int]:
    """lalsimulation's time-domain polarisations of draw ``i``, unaligned.

    Args:
        parameters: the draws (see ``check_parameters``)
        i: which draw
        sample_rate: Hz
        minimum_frequency: Hz, where the waveform starts
        reference_frequency: Hz, where phase and spins are defined
        approximant: lalsimulation approximant code (``lal_approximant``)

    Returns:
        cross and plus (float64, lalsimulation's own length) and the index of
        their coalescence (``t = 0``) sample
    """
    import lal
    import lalsimulation

    iota, s1x, s1y, s1z, s2x, s2y, s2z = lal_spins(parameters, i, reference_frequency)
    m1 = float(parameters["mass_1"][i]) * lal.MSUN_SI
    m2 = float(parameters["mass_2"][i]) * lal.MSUN_SI
    distance = float(parameters["luminosity_distance"][i]) * 1e6 * lal.PC_SI
    try:
        hp, hc = lalsimulation.SimInspiralChooseTDWaveform(
            m1, m2, s1x, s1y, s1z, s2x, s2y, s2z, distance, iota,
            float(parameters["phase"][i]), 0.0, 0.0, 0.0, 1.0 / sample_rate,
            minimum_frequency, reference_frequency, None, approximant,
        )  # fmt: skip
    except RuntimeError as err:
        values = ", ".join(
            f"{k}={float(parameters[k][i]):.6g}"
            for k in (*REQUIRED, *PRECESSING_SPINS, *ALIGNED_SPINS)
            if k in parameters
        )
        raise WaveformError(
            f"lalsimulation failed for draw {i} ({values}): {err}"
        ) from err
    # the epoch is a whole number of samples before t = 0 (to within 1 ns)
    zero = int(round(-float(hp.epoch) * sample_rate))
    return hc.data.data, hp.data.data, zero


def place(waveform: np.ndarray, zero: int, out: np.ndarray, coalescence: int) -> None:
    """Copy ``waveform`` into ``out`` with sample ``zero`` on ``coalescence``.

    Parts falling outside ``out`` are cut; samples of ``out`` it does not
    reach are left as they are (zeros).
    """
    start = coalescence - zero
    lo, hi = max(0, -start), min(len(waveform), len(out) - start)
    if hi > lo:
        out[start + lo : start + hi] = waveform[lo:hi]


def _lalsimulation_polarizations(
    parameters: Mapping[str, np.ndarray],
    num: int,
    sample_rate: float,
    size: int,
    coalescence: int,
    minimum_frequency: float,
    reference_frequency: float,
    approximant: str,
) -> tuple[np.ndarray, np.ndarray]:
    code = lal_approximant(approximant)
    cross = np.zeros((num, size))
    plus = np.zeros((num, size))
    for i in range(num):
        hc, hp, zero = lal_waveform(
            parameters, i, sample_rate, minimum_frequency, reference_frequency, code
        )
        place(hc, zero, cross[i], coalescence)
        place(hp, zero, plus[i], coalescence)
    return cross, plus


def _ml4gw_polarizations(
    parameters: Mapping[str, np.ndarray],
    sample_rate: float,
    duration: float,
    coalescence_time: float,
    minimum_frequency: float,
    reference_frequency: float,
    approximant: str,
    device: str,
) -> tuple[np.ndarray, np.ndarray]:
    import torch
    from ml4gw import waveforms as ml4gw_waveforms
    from ml4gw.waveforms.conversion import bilby_spins_to_lalsim
    from ml4gw.waveforms.generator import TimeDomainCBCWaveformGenerator

    if not hasattr(ml4gw_waveforms, approximant):
        raise WaveformError(
            f"approximant {approximant!r} is not in ml4gw.waveforms "
            "(try IMRPhenomPv2, IMRPhenomD or TaylorF2)"
        )
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"

    def tensor(x):
        return torch.as_tensor(np.asarray(x, dtype=np.float64), device=device)

    p = {k: tensor(v) for k, v in parameters.items()}
    m1, m2 = p["mass_1"], p["mass_2"]
    if all(k in p for k in PRECESSING_SPINS):
        iota, s1x, s1y, s1z, s2x, s2y, s2z = bilby_spins_to_lalsim(
            p["theta_jn"], p["phi_jl"], p["tilt_1"], p["tilt_2"], p["phi_12"],
            p["a_1"], p["a_2"], m1, m2, reference_frequency, p["phase"],
        )  # fmt: skip
    else:
        zero = torch.zeros_like(m1)
        iota, s1x, s1y, s2x, s2y = p["theta_jn"], zero, zero, zero, zero
        s1z, s2z = p["chi_1"], p["chi_2"]
    generator = TimeDomainCBCWaveformGenerator(
        getattr(ml4gw_waveforms, approximant)().to(device),
        sample_rate=sample_rate,
        duration=duration,
        f_min=minimum_frequency,
        f_ref=reference_frequency,
        right_pad=duration - coalescence_time,
    ).to(device)
    with torch.no_grad():
        cross, plus = generator(
            chirp_mass=(m1 * m2) ** 0.6 / (m1 + m2) ** 0.2,
            mass_ratio=m2 / m1,
            mass_1=m1,
            mass_2=m2,
            s1x=s1x, s1y=s1y, s1z=s1z, s2x=s2x, s2y=s2y, s2z=s2z,
            distance=p["luminosity_distance"],
            phic=p["phase"],
            inclination=iota,
        )  # fmt: skip
    return cross.double().cpu().numpy(), plus.double().cpu().numpy()


def generate_polarizations(
    parameters: Mapping[str, np.ndarray],
    sample_rate: float,
    duration: float,
    coalescence_time: float,
    minimum_frequency: float,
    reference_frequency: float,
    approximant: str = "IMRPhenomPv2",
    taper_length: float = 0.25,
    generator: str = "lalsimulation",
    device: str = "auto",
) -> tuple[np.ndarray, np.ndarray]:
    """Cross and plus polarisations of every draw, aligned and tapered.

    Args:
        parameters: name → (N,) draws: detector-frame ``mass_1``, ``mass_2``
            (solar masses), ``luminosity_distance`` (Mpc), ``theta_jn``,
            ``phase`` (rad) and precessing (``a_1, a_2, tilt_1, tilt_2,
            phi_12, phi_jl``) or aligned (``chi_1, chi_2``) spins
        sample_rate: Hz
        duration: seconds per waveform
        coalescence_time: seconds from the first sample to the coalescence
            sample (the approximant's ``t = 0``)
        minimum_frequency: Hz, where the signal starts
        reference_frequency: Hz, where phase and spin angles are defined
        approximant: waveform model name
        taper_length: seconds of half-Hann taper at the start
        generator: ``lalsimulation`` or ``ml4gw``
        device: torch device of the ``ml4gw`` generator (``auto``: a GPU if
            there is one)

    Returns:
        cross and plus, each (N, duration * sample_rate) float64 strain
    """
    num = check_parameters(parameters)
    size = int(round(duration * sample_rate))
    coalescence = coalescence_index(duration, coalescence_time, sample_rate)
    if generator == "lalsimulation":
        cross, plus = _lalsimulation_polarizations(
            parameters, num, sample_rate, size, coalescence,
            minimum_frequency, reference_frequency, approximant,
        )  # fmt: skip
    elif generator == "ml4gw":
        cross, plus = _ml4gw_polarizations(
            parameters, sample_rate, duration, coalescence / sample_rate,
            minimum_frequency, reference_frequency, approximant, device,
        )  # fmt: skip
    else:
        raise WaveformError(
            f"unknown waveform generator {generator!r} (choose {', '.join(GENERATORS)})"
        )
    window = start_taper(size, sample_rate, taper_length)
    cross *= window
    plus *= window
    return cross, plus


def polarizations_from_attrs(
    parameters: Mapping[str, np.ndarray], attrs: Mapping, device: str = "auto"
) -> tuple[np.ndarray, np.ndarray]:
    """``generate_polarizations`` with the settings a data set records.

    Args:
        parameters: name → (N,) draws (see ``generate_polarizations``)
        attrs: ``sample_rate``, ``duration``, ``coalescence_time``,
            ``minimum_frequency``, ``reference_frequency``, ``approximant``,
            ``taper_length`` and (optionally) ``generator``
        device: torch device of the ``ml4gw`` generator

    Returns:
        cross and plus, each (N, T) float64
    """
    return generate_polarizations(
        parameters,
        sample_rate=attrs["sample_rate"],
        duration=attrs["duration"],
        coalescence_time=attrs["coalescence_time"],
        minimum_frequency=attrs["minimum_frequency"],
        reference_frequency=attrs["reference_frequency"],
        approximant=attrs["approximant"],
        taper_length=attrs["taper_length"],
        generator=attrs.get("generator", "lalsimulation"),
        device=device,
    )
