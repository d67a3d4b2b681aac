"""Training throughput and where each step's time goes.

Times the three parts of a training step on synthetic inputs at the sandbox
preprocessing (2048 Hz, 1.5 s kernels, 1 s fduration, 8 s PSD, 8 s waveforms):
drawing raw background samples (the data loader), augmentation on the device
(PSD, injection, SNR rescaling, whitening: ``train.augment.Augmentor``) and the
network's forward, backward and optimiser step. Reports training samples per
second and the share of the step spent in augmentation, plus the network's
inference rate. On the CPU it times the small default ResNet; with ``--device
cuda`` the aframe [3,4,6,3] ResNet with 16-bit mixed precision at batch 384.

Writes benchmarks/results/train-train.json (or ``--output``).

Usage:
    nice -n 10 .venv/bin/python benchmarks/train/bench_train.py [--threads 2]
    .venv/bin/python benchmarks/train/bench_train.py --device cuda
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

from aframe.architectures import PreprocessingConfig, Preprocessor, build_model
from aframe.architectures.snr import background_psd
from train.architectures import Architecture, resnet
from train.augment import Augmentor
from train.curriculum import SnrSchedule
from train.injection import SignalInjector
from train.inputs import Segment
from train.model import detection_loss
from train.sampling import BackgroundSampler
from train.seeds import generator

RESULTS = Path(__file__).resolve().parents[1] / "results" / "train-train.json"
SMALL = resnet()
FULL = resnet(
    layers=[3, 4, 6, 3], widths=[64, 128, 256, 512], kernel_size=3, norm_groups=16
)


def synthetic_inputs(config: PreprocessingConfig, num_waveforms: int, seconds: int):
    """White background (timing does not depend on colour) and chirps."""
    rng = np.random.default_rng(0)
    fs = int(config.sample_rate)
    strain = (rng.standard_normal((2, seconds * fs)) * 1e-21).astype(np.float32)
    t = np.arange(8 * fs) / fs
    tau = np.clip(7.5 - t, 1 / fs, None)
    freq = np.minimum(25 * tau ** (-3 / 8), 300)
    phase = 2 * np.pi * np.cumsum(freq) / fs
    envelope = (
        1e-22 * (freq / 30) ** (2 / 3) * np.where(t > 7.5, np.exp(-(t - 7.5) / 0.02), 1)
    )
    one = np.stack([envelope * np.sin(phase), envelope * np.cos(phase)]).astype(
        np.float32
    )
    waveforms = np.repeat(one[None], num_waveforms, axis=0)
    psd = background_psd(strain.astype(np.float64), fs, 8.0)
    return [Segment(0.0, strain, "synthetic", psd)], waveforms, int(7.5 * fs)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def run(
    device: torch.device, architecture: Architecture, batch_size: int, steps: int
) -> dict:
    config = PreprocessingConfig(2048, 1.5, 1.0, 8.0, 2.5)
    segments, waveforms, coalescence = synthetic_inputs(config, 256, 600)
    sampler = BackgroundSampler(segments, config.sample_size)
    augmentor = Augmentor(
        Preprocessor(config),
        SignalInjector(config, coalescence, 0.25, 0.05),
        waveforms,
        SnrSchedule(12.0, 6.0, 100.0, 600),
        torch.from_numpy(np.stack([s.psd for s in segments])),
        waveform_prob=0.5,
        swap_prob=0.05,
        mute_prob=0.05,
        invert_prob=0.5,
        reverse_prob=0.5,
        seed=0,
    ).to(device)
    torch.manual_seed(0)
    model = build_model(architecture.name, 2, **architecture.kwargs).to(device)
    optimiser = torch.optim.AdamW(model.parameters(), lr=1e-3)
    amp = device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda") if amp else None
    autocast = (
        (lambda: torch.autocast("cuda", dtype=torch.float16))
        if amp
        else contextlib.nullcontext
    )
    times = {"load": [], "augment": [], "step": []}
    for i in range(steps + 2):  # two warm-up steps
        t0 = time.perf_counter()
        x, segment = sampler.sample(batch_size, generator(0, "bench", i))
        x = x.to(device)
        sync(device)
        t1 = time.perf_counter()
        with torch.no_grad():
            x, y, snr = augmentor(x, segment, i)
        sync(device)
        t2 = time.perf_counter()
        optimiser.zero_grad(set_to_none=True)
        with autocast():
            loss = detection_loss(model(x).float(), y, snr, 0.5, 12.0)
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.step(optimiser)
            scaler.update()
        else:
            loss.backward()
            optimiser.step()
        sync(device)
        t3 = time.perf_counter()
        if i >= 2:
            times["load"].append(t1 - t0)
            times["augment"].append(t2 - t1)
            times["step"].append(t3 - t2)
    med = {k: float(np.median(v)) for k, v in times.items()}
    total = sum(med.values())

    # inference rate of the network alone
    model.eval()
    x = torch.randn(batch_size, 2, config.kernel_size, device=device)
    with torch.no_grad(), autocast():
        model(x)
        sync(device)
        t0 = time.perf_counter()
        reps = 5
        for _ in range(reps):
            model(x)
        sync(device)
        inference = reps * batch_size / (time.perf_counter() - t0)

    return {
        "architecture": {"name": architecture.name, **architecture.kwargs},
        "parameters": sum(p.numel() for p in model.parameters()),
        "batch_size": batch_size,
        "steps_timed": steps,
        "amp": amp,
        "median_seconds": {k: round(v, 4) for k, v in med.items()},
        "train_samples_per_second": round(batch_size / total, 1),
        "augmentation_share": round(med["augment"] / total, 3),
        "data_pipeline_share": round((med["augment"] + med["load"]) / total, 3),
        "inferences_per_second": round(inference, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--steps", type=int, default=None, help="timed steps")
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    gpu = device.type == "cuda"
    architecture = FULL if gpu else SMALL
    batch_size = args.batch_size or (384 if gpu else 128)
    steps = args.steps or (20 if gpu else 8)
    result = run(device, architecture, batch_size, steps)
    result["command"] = " ".join([Path(sys.executable).name, *sys.argv])
    result["machine"] = {
        "platform": platform.platform(),
        "processor": platform.processor(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "device": torch.cuda.get_device_name(device) if gpu else "cpu",
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
    }
    record = {
        "benchmark": "train: samples/s and augmentation share of a training step",
        "preprocessing": {
            "sample_rate": 2048,
            "kernel_length": 1.5,
            "fduration": 1.0,
            "psd_length": 8.0,
            "fftlength": 2.5,
            "waveform_duration": 8.0,
        },
        "results": {args.device: result},
    }
    if args.output.exists():
        # keep the other device's numbers
        previous = json.loads(args.output.read_text())
        for key, value in previous.get("results", {}).items():
            record["results"].setdefault(key, value)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
