"""Throughput of streaming inference: seconds of strain analysed per second.

For the sandbox's small ResNet and the full aframe ResNet ([3, 4, 6, 3],
widths 64-512), both untrained and exported through ``export_network`` with
the sandbox preprocessing (2048 Hz, 1.5 s kernels, 8 s PSDs) at the pipeline's
inference sampling rate, measures on the CPU:

- network-only inferences per second through the ``local`` backend (batch 128);
- whitening-only kernels per second (``Preprocessor.stream``);
- end-to-end seconds of strain per second of one stream (read, whiten,
  network), at the default infer table's rate and at aframe's 4 Hz (a shifted
  job runs its background stream plus the foreground around its injections:
  between one and two streams' work);
- the network's FLOPs per kernel (``torch.utils.flop_counter.FlopCounterMode``)
  and the achieved FLOP/s as a fraction of a dense float32 matmul measured in
  the same run with the same thread count;
- for the small model, the ``triton`` backend against MLServer: the same
  numbers through gRPC, and its overhead relative to ``local``.

With ``--device cuda``: seconds of strain per second per GPU for the full
ResNet, network only and with whitening on the GPU, using TensorRT when it
imports, else onnxruntime's CUDA provider, else torch.

Writes benchmarks/results/infer-{device}.json.

Usage:
    nice -n 10 .venv/bin/python benchmarks/infer/bench_infer.py [--device cuda]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
from torch.utils.flop_counter import FlopCounterMode

from aframe.architectures import PreprocessingConfig, Preprocessor, ResNet1D
from aframe.search.backends import make_backend
from aframe.search.repository import ExportedModel, read_exported_model
from aframe.search.stream import StreamGeometry, run_streams
from aframe.utils.config import read_typeo
from aframe.utils.logging import configure_logging
from export.exporter import export_network

ROOT = Path(__file__).resolve().parents[2]
PIPELINE = ROOT / "projects" / "sandbox" / "pyproject.toml"
RESULTS = ROOT / "benchmarks" / "results"
BATCH_SIZE = 128
SIGMA = 1e-21


def pipeline_settings() -> tuple[PreprocessingConfig, list[float], dict, dict]:
    """The sandbox preprocessing, the rates to measure and the ResNet arguments.

    The rates are the default infer table's and the base (aframe's 4 Hz).
    """
    default = read_typeo(PIPELINE, profile="default")
    full = read_typeo(PIPELINE, profile="full")
    base = default["base"]
    config = PreprocessingConfig.from_settings(base, "base")
    rates = [float(base["inference_sampling_rate"])]
    table = default["scripts"].get("infer", {})
    if float(table.get("inference_sampling_rate", rates[0])) != rates[0]:
        rates.insert(0, float(table["inference_sampling_rate"]))
    small = dict(default["scripts"]["train"]["commands"]["resnet"])
    large = dict(full["scripts"]["train"]["commands"]["resnet"])
    return config, rates, small, large


def export(
    net: torch.nn.Module, config: PreprocessingConfig, directory: Path
) -> ExportedModel:
    config.save(directory / "preprocessing.json")
    x = np.random.default_rng(0).standard_normal(
        (4, len(config.ifos), config.kernel_size)
    )
    export_network(
        net,
        directory / "preprocessing.json",
        x.astype(np.float32),
        directory / "repo",
        batch_size=BATCH_SIZE,
        tensorrt="never",
    )
    return read_exported_model(directory / "repo")


def flops_per_kernel(net: torch.nn.Module, config: PreprocessingConfig) -> float:
    x = torch.zeros(1, len(config.ifos), config.kernel_size)
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        net(x)
    return float(counter.get_total_flops())


def matmul_flops(threads: int, size: int = 1024, device: str = "cpu") -> float:
    """Dense float32 matmul FLOP/s with ``threads`` threads (the roofline)."""
    torch.set_num_threads(threads)
    a = torch.randn(size, size, device=device)
    b = torch.randn(size, size, device=device)
    for _ in range(2):
        a @ b
    repeats = 0
    start = time.perf_counter()
    while time.perf_counter() - start < 1.0:
        a @ b
        repeats += 1
    if device == "cuda":
        torch.cuda.synchronize()
    return 2 * size**3 * repeats / (time.perf_counter() - start)


def timed(fn, min_seconds: float = 1.0) -> tuple[float, int]:
    """Wall seconds per call of ``fn`` (after one warm-up call), and the calls."""
    fn()
    calls = 0
    start = time.perf_counter()
    while True:
        fn()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return elapsed / calls, calls


def stream_rate(model, backend, config, isr, kernels: int) -> dict:
    """End-to-end seconds of strain per second of one background stream."""
    preprocessor = Preprocessor(config)
    geometry = StreamGeometry.of(preprocessor, isr)
    n = (kernels - 1) * geometry.stride + geometry.span
    data = SIGMA * np.random.default_rng(1).standard_normal((len(config.ifos), n))
    start = time.perf_counter()
    out = run_streams(lambda i0, i1: data[:, i0:i1], n, 0.0, preprocessor, backend, isr)
    elapsed = time.perf_counter() - start
    assert len(out["background"]) == kernels
    return {
        "strain_seconds": kernels / isr,
        "wall_seconds": round(elapsed, 3),
        "strain_seconds_per_second": round(kernels / isr / elapsed, 2),
        "kernels_per_second": round(kernels / elapsed, 1),
    }


def whitening_rate(config, isr, seconds: float) -> float:
    preprocessor = Preprocessor(config)
    n = int((seconds + config.psd_length + config.window_length) * config.sample_rate)
    data = torch.from_numpy(SIGMA * np.random.default_rng(2).standard_normal((2, n)))
    with torch.no_grad():
        per_call, _ = timed(lambda: preprocessor.stream(data, isr), 0.5)
    return round(preprocessor.num_kernels(n, isr) / per_call, 1)


def network_rate(backend, config, batches: int) -> float:
    x = (
        np.random.default_rng(3)
        .standard_normal((BATCH_SIZE * batches, len(config.ifos), config.kernel_size))
        .astype(np.float32)
    )
    per_call, _ = timed(lambda: backend(x), 0.5)
    return round(len(x) / per_call, 1)


def bench_cpu(args, config, rates, architectures) -> dict:
    from infer.serve import mlserver_server

    threads = args.threads
    torch.set_num_threads(threads)
    roofline = matmul_flops(threads)
    results = {"threads": threads, "matmul_flops_per_second": roofline, "models": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for name, kwargs in architectures.items():
            torch.manual_seed(0)
            net = ResNet1D(len(config.ifos), **kwargs).eval()
            model = export(net, config, Path(tmp) / name)
            backend = make_backend("local", model, intra_op_threads=threads)
            flops = flops_per_kernel(net, config)
            inferences = network_rate(backend, config, 1 if name == "full" else 4)
            # whole batches: a stream's last partial batch is rare in real jobs
            kernels = BATCH_SIZE if name == "full" else 4 * BATCH_SIZE
            entry = {
                "architecture": kwargs,
                "num_parameters": sum(p.numel() for p in net.parameters()),
                "flops_per_kernel": flops,
                "network_inferences_per_second": inferences,
                "achieved_flops_per_second": flops * inferences,
                "fraction_of_matmul": round(flops * inferences / roofline, 3),
                "rates": {},
            }
            for isr in rates:
                entry["rates"][str(isr)] = {
                    "network_strain_seconds_per_second": round(inferences / isr, 2),
                    "whitening_kernels_per_second": whitening_rate(config, isr, 64.0),
                    "local": stream_rate(model, backend, config, isr, kernels),
                }
            if name == "small" and not args.skip_triton:
                isr = rates[0]
                local = entry["rates"][str(isr)]["local"]
                directory = Path(tmp) / "mlserver"
                with mlserver_server(model, directory, intra_op_threads=threads) as url:
                    remote = make_backend("triton", model, server_url=url)
                    remote_inferences = network_rate(remote, config, 4)
                    triton = stream_rate(model, remote, config, isr, kernels)
                    remote.close()
                entry["triton"] = {
                    "inference_sampling_rate": isr,
                    "network_inferences_per_second": remote_inferences,
                    "network_overhead": round(inferences / remote_inferences - 1, 3),
                    "stream": triton,
                    "stream_overhead": round(
                        local["strain_seconds_per_second"]
                        / triton["strain_seconds_per_second"]
                        - 1,
                        3,
                    ),
                }
            results["models"][name] = entry
            print(json.dumps({name: entry}, indent=2), flush=True)
    return results


def _tensorrt_runner(onnx_path: Path, shape: tuple[int, int, int]):
    """Run a TensorRT engine built from the ONNX file on CUDA torch tensors."""
    import tensorrt as trt

    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    network = builder.create_network(0)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse(onnx_path.read_bytes()):
        raise RuntimeError(f"TensorRT cannot parse {onnx_path}: {parser.get_error(0)}")
    engine = trt.Runtime(logger).deserialize_cuda_engine(
        builder.build_serialized_network(network, builder.create_builder_config())
    )
    context = engine.create_execution_context()
    names = [engine.get_tensor_name(i) for i in range(engine.num_io_tensors)]
    output = torch.empty(shape[0], 1, device="cuda")

    def run(x: torch.Tensor) -> torch.Tensor:
        for name in names:
            tensor = (
                x if engine.get_tensor_mode(name) == trt.TensorIOMode.INPUT else output
            )
            context.set_tensor_address(name, tensor.data_ptr())
        context.execute_async_v3(torch.cuda.current_stream().cuda_stream)
        return output

    return run


def bench_cuda(args, config, rates, architectures) -> dict:
    kwargs = architectures["full"]
    isr = rates[-1]  # aframe's rate
    torch.manual_seed(0)
    net = ResNet1D(len(config.ifos), **kwargs).eval()
    shape = (BATCH_SIZE, len(config.ifos), config.kernel_size)
    flops = flops_per_kernel(net, config)  # on the CPU, before the net moves
    with tempfile.TemporaryDirectory() as tmp:
        model = export(net, config, Path(tmp))
        runner, engine = None, "torch"
        try:
            runner, engine = _tensorrt_runner(model.onnx_path, shape), "tensorrt"
        except ImportError:
            providers = ort.get_available_providers()
            if "CUDAExecutionProvider" in providers:
                session = ort.InferenceSession(
                    str(model.onnx_path), providers=["CUDAExecutionProvider"]
                )

                def runner(x):
                    return torch.from_numpy(
                        session.run(None, {model.input_name: x.cpu().numpy()})[0]
                    )

                engine = "onnxruntime-cuda"
        if runner is None:
            gpu_net = net.to("cuda")

            def runner(x):
                with torch.no_grad():
                    return gpu_net(x)

        x = torch.randn(*shape, device="cuda")

        def network():
            runner(x)
            torch.cuda.synchronize()

        per_call, _ = timed(network, 2.0)
        inferences = BATCH_SIZE / per_call

        preprocessor = Preprocessor(config).to("cuda")
        geometry = StreamGeometry.of(preprocessor, isr)
        n = geometry.span - geometry.stride + BATCH_SIZE * geometry.stride
        data = SIGMA * torch.randn(
            len(config.ifos), n, dtype=torch.float64, device="cuda"
        )

        def end_to_end():
            with torch.no_grad():
                kernels = preprocessor.stream(data, isr, chunk_size=BATCH_SIZE)
            runner(kernels.float().contiguous())
            torch.cuda.synchronize()

        per_update, _ = timed(end_to_end, 2.0)
        roofline = matmul_flops(1, 8192, "cuda")
    return {
        "gpu": torch.cuda.get_device_name(),
        "inference_sampling_rate": isr,
        "engine": engine,
        "architecture": kwargs,
        "flops_per_kernel": flops,
        "network_inferences_per_second": round(inferences, 1),
        "network_strain_seconds_per_second_per_gpu": round(inferences / isr, 1),
        "fraction_of_matmul": round(flops * inferences / roofline, 3),
        "matmul_flops_per_second": roofline,
        "end_to_end_strain_seconds_per_second_per_gpu": round(
            BATCH_SIZE / isr / per_update, 1
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads per stream")
    parser.add_argument(
        "--seconds", type=float, default=128.0, help="strain per stream"
    )
    parser.add_argument("--skip-triton", action="store_true")
    parser.add_argument("--skip-full", action="store_true")
    args = parser.parse_args()
    configure_logging("WARNING")
    config, rates, small, large = pipeline_settings()
    architectures = (
        {"small": small} if args.skip_full else {"small": small, "full": large}
    )
    start = time.perf_counter()
    if args.device == "cuda":
        numbers = bench_cuda(args, config, rates, {"full": large})
    else:
        numbers = bench_cpu(args, config, rates, architectures)
    result = {
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_average": os.getloadavg(),
            "python": sys.version.split()[0],
            "torch": torch.__version__,
            "onnxruntime": ort.__version__,
        },
        "command": " ".join(["benchmarks/infer/bench_infer.py", *sys.argv[1:]]),
        "preprocessing": config.to_dict(),
        "inference_sampling_rates": rates,
        "batch_size": BATCH_SIZE,
        "wall_seconds": round(time.perf_counter() - start, 1),
        **numbers,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"infer-{args.device}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
