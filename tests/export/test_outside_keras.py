"""The exported SavedModels, run by a process with TensorFlow only, give the
Keras model's outputs (and numpy's softmax, top-k and up-sampling) to 1e-5."""

import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

SCRIPT = pathlib.Path(__file__).with_name("serve_without_keras.py")
HEADS = ("lficam", "abn", "baseline")
SIGNATURES = ("serving_default", "serving_uint8", "serving_bytes")


@pytest.fixture(scope="module")
def outside(exports, requests, tmp_path_factory):
    """Run every signature of every export in a TensorFlow-only process."""
    request_dir = tmp_path_factory.mktemp("request")
    out_dir = tmp_path_factory.mktemp("outside")
    np.save(request_dir / "images_float.npy", requests["float"])
    np.save(request_dir / "images_uint8.npy", requests["uint8"])
    for i, data in enumerate(requests["bytes"]):
        (request_dir / f"file_{i}.bin").write_bytes(data)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH="")
    result = subprocess.run(
        [sys.executable, str(SCRIPT), str(request_dir), str(out_dir)]
        + [str(exports[head]) for head in HEADS],
        cwd=out_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return out_dir


@pytest.mark.slow
def test_the_process_loaded_neither_keras_nor_lficam_tf(outside):
    report = json.loads((outside / "report.json").read_text())
    assert report["loaded"] == []
    for head in HEADS:
        assert set(SIGNATURES) <= set(report["signatures"][head])


@pytest.mark.parametrize("signature", SIGNATURES)
@pytest.mark.parametrize("head", HEADS)
def test_outputs_match_keras_and_numpy(
    outside, expected, assert_match, head, signature
):
    with np.load(outside / f"{head}-{signature}.npz") as npz:
        actual = dict(npz)
    assert_match(actual, expected[head][signature], atol=1e-5, rtol=1e-5)
    if "attention" in actual:
        assert actual["attention"].min() >= 0.0
        assert actual["attention"].max() <= 1.0
    np.testing.assert_allclose(actual["probabilities"].sum(-1), 1.0, atol=1e-6)


def test_baseline_has_no_attention_outputs(outside):
    with np.load(outside / "baseline-serving_default.npz") as npz:
        assert sorted(npz) == ["classes", "logits", "probabilities", "scores"]
