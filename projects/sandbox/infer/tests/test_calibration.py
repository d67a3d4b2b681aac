"""Event times are calibrated with loud injections, or fall back visibly."""

import json

import pytest
import torch

from aframe.search.backends import make_backend
from aframe.utils.background import list_background
from infer.calibration import calibrate_time_offset, load_or_calibrate


class Mean(torch.nn.Module):
    """A network blind to signals: the mean of the whitened kernel."""

    def forward(self, x):
        return x.mean(dim=(1, 2)).unsqueeze(-1)


def calibrate(model, sandbox, config, settings):
    files = list_background(
        sandbox / "test" / "background", config.ifos, config.sample_rate
    )
    return calibrate_time_offset(
        model,
        make_backend("local", model),
        files,
        sandbox / "test" / "waveforms.hdf5",
        settings["inference_sampling_rate"],
        settings["integration_length"],
        settings["cluster_window_length"],
        num_injections=12,
        snr=30.0,
        seed=4,
    )


def test_a_responding_model_is_calibrated(endpower_model, sandbox, config, settings):
    record = calibrate(endpower_model, sandbox, config, settings)
    assert record["method"] == "injections"
    assert (
        record["num_responding"] == record["num_placed"] == len(record["delays"]) >= 8
    )
    # EndPower peaks when the merger is half a kernel-second before the kernel
    # end; the 0.5 s boxcar adds half of its span minus one output: ≈ 0.5 + 0.125
    assert 0.3 < record["offset"] < 0.8
    assert record["spread"] < 0.05
    assert record["settings"]["model"] == endpower_model.key


def test_a_blind_model_falls_back_to_the_heuristic(
    tmp_path, sandbox, config, settings, kit
):
    model = kit.export(Mean(), config, tmp_path)
    record = calibrate(model, sandbox, config, settings)
    assert record["method"] == "heuristic"
    inconsistent = record["spread"] is not None and record["spread"] > 0.25
    assert record["num_responding"] < 0.75 * record["num_placed"] or inconsistent
    expected = (config.kernel_length + settings["integration_length"]) / 2
    assert record["offset"] == pytest.approx(expected)


def test_stored_calibration_is_reused_only_for_the_same_settings(tmp_path):
    path = tmp_path / "calibration.json"
    calls = []

    def make(offset):
        def run():
            calls.append(offset)
            return {"settings": {"a": offset}, "offset": offset, "method": "injections"}

        return run

    assert load_or_calibrate(path, {"a": 1}, make(1))["offset"] == 1
    assert load_or_calibrate(path, {"a": 1}, make(99))["offset"] == 1
    assert load_or_calibrate(path, {"a": 2}, make(2))["offset"] == 2
    assert calls == [1, 2]
    assert json.loads(path.read_text())["settings"] == {"a": 2}
