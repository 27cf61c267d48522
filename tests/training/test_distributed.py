"""Several replicas: MirroredStrategy on two logical CPUs matches one device;
two MultiWorkerMirroredStrategy workers on localhost stay identical."""

import json
import os
import pathlib
import socket
import subprocess
import sys

import numpy as np
import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
DRIVER = pathlib.Path(__file__).with_name("distributed_driver.py")


def _env(**extra):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(REPO))
    env.pop("TF_CONFIG", None)
    env.update(extra)
    return env


def _load(out, name):
    return dict(np.load(out / f"{name}.npz")), json.loads(
        (out / f"{name}.json").read_text()
    )


def _free_ports(count):
    sockets = []
    for _ in range(count):
        s = socket.socket()
        s.bind(("localhost", 0))
        sockets.append(s)
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


@pytest.mark.slow
def test_mirrored_two_logical_cpus_match_one_device(tmp_path):
    done = subprocess.run(
        [sys.executable, str(DRIVER), "mirrored", str(tmp_path)],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    two, two_info = _load(tmp_path, "two")
    unsynced, _ = _load(tmp_path, "two_unsynced")
    one, one_info = _load(tmp_path, "one")
    init = dict(np.load(tmp_path / "init.npz"))
    assert two_info["metrics"]["replicas"] == 2 and one_info["metrics"]["replicas"] == 1
    assert two_info["iterations"] == one_info["iterations"] == 2
    assert two.keys() == one.keys() == init.keys()

    trainable = [k for k in one if "moving" not in k]

    def relative_difference(a):
        """|a - one| / |one - init| over all trainable weights (L2 norms)."""
        diff = sum(float(((a[k] - one[k]) ** 2).sum()) for k in trainable)
        moved = sum(float(((one[k] - init[k]) ** 2).sum()) for k in trainable)
        return (diff / moved) ** 0.5

    # The global batch is split in two, gradients are summed over the
    # replicas and batch normalisation is synchronised: the two runs take the
    # same steps up to float round-off (sums in another order).
    assert relative_difference(two) < 0.01
    np.testing.assert_allclose(
        two_info["history"]["loss"], one_info["history"]["loss"], rtol=1e-5
    )
    # The tolerance tells a wrong computation apart: with each replica's own
    # batch statistics (Keras' default) the steps differ far more.
    assert relative_difference(unsynced) > 0.1
    for key in [k for k in one if "moving" in k]:
        np.testing.assert_allclose(
            two[key], one[key], rtol=1e-4, atol=1e-5, err_msg=key
        )
    np.testing.assert_allclose(
        two_info["history"]["val_loss"], one_info["history"]["val_loss"], rtol=1e-3
    )


@pytest.mark.slow
def test_two_workers_stay_in_sync(tmp_path):
    ports = _free_ports(2)
    cluster = {"worker": [f"localhost:{port}" for port in ports]}
    workers = []
    for index in range(2):
        tf_config = json.dumps(
            {"cluster": cluster, "task": {"type": "worker", "index": index}}
        )
        workers.append(
            subprocess.Popen(
                [sys.executable, str(DRIVER), "worker", str(tmp_path)],
                env=_env(TF_CONFIG=tf_config),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    outputs = []
    try:
        for worker in workers:
            outputs.append(worker.communicate(timeout=900))
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
    for worker, (_, err) in zip(workers, outputs):
        assert worker.returncode == 0, err[-3000:]

    first, first_info = _load(tmp_path, "worker0")
    second, second_info = _load(tmp_path, "worker1")
    # 2 epochs of 64 // 16 = 4 global steps, each on both workers.
    assert first_info["iterations"] == second_info["iterations"] == 8
    assert first.keys() == second.keys()
    for key in first:  # weights, BN statistics, optimizer slots: identical
        np.testing.assert_array_equal(first[key], second[key], err_msg=key)
    # Both saw the same global metrics.
    assert first_info["history"]["loss"] == pytest.approx(
        second_info["history"]["loss"]
    )
    # Only the chief (worker 0) wrote the run's outputs.
    assert first_info["metrics"]["replicas"] == 2
    assert second_info["metrics"] is None
    run = tmp_path / "run"
    assert (run / "metrics.json").is_file() and (run / "serving" / "1").is_dir()
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["epochs"] == 2
