"""Device selection and thread pools (single-process parts; the distributed
runs are in test_distributed.py)."""

import json
import warnings

import pytest
import tensorflow as tf

from lficam_tf.training import ConfigError, select_strategy
from lficam_tf.training.strategy import (
    cluster_from_tf_config,
    configure_threads,
    cpu_count,
    is_chief,
    resolve_threads,
)


def _tf_config(workers, index, task="worker", chief=None):
    cluster = {"worker": [f"localhost:{2000 + i}" for i in range(workers)]}
    if chief:
        cluster["chief"] = ["localhost:1999"]
    return json.dumps({"cluster": cluster, "task": {"type": task, "index": index}})


def test_cluster_from_tf_config():
    assert cluster_from_tf_config({}) is None
    assert cluster_from_tf_config({"TF_CONFIG": _tf_config(1, 0)}) is None
    first = cluster_from_tf_config({"TF_CONFIG": _tf_config(2, 0)})
    assert first == {
        "num_workers": 2,
        "task_type": "worker",
        "task_index": 0,
        "is_chief": True,
    }
    assert not cluster_from_tf_config({"TF_CONFIG": _tf_config(2, 1)})["is_chief"]
    with_chief = cluster_from_tf_config({"TF_CONFIG": _tf_config(2, 0, chief=True)})
    assert with_chief["num_workers"] == 3 and not with_chief["is_chief"]
    assert cluster_from_tf_config({"TF_CONFIG": _tf_config(2, 0, "chief", True)})[
        "is_chief"
    ]


def test_bad_tf_config():
    with pytest.raises(
        ConfigError, match=r"TF_CONFIG must be JSON like .*Received: TF_CONFIG='\{oops'"
    ):
        cluster_from_tf_config({"TF_CONFIG": "{oops"})
    with pytest.raises(ConfigError, match=r"TF_CONFIG must be JSON"):
        cluster_from_tf_config({"TF_CONFIG": json.dumps({"cluster": {}})})


def test_devices_with_tf_config_conflict(monkeypatch):
    monkeypatch.setenv("TF_CONFIG", _tf_config(2, 0))
    with pytest.raises(
        ConfigError,
        match=r"`devices` applies to one machine, but TF_CONFIG describes a cluster of 2 workers.*Drop --devices",
    ):
        select_strategy(devices=2)


def test_default_strategy_on_one_device():
    strategy = select_strategy(None)
    assert strategy is tf.distribute.get_strategy()
    assert strategy.num_replicas_in_sync == 1
    assert is_chief(strategy)


def test_named_and_counted_devices():
    cpus = tf.config.list_logical_devices("CPU")
    strategy = select_strategy(("/cpu:0",))
    assert isinstance(strategy, tf.distribute.OneDeviceStrategy)
    strategy = select_strategy(1)
    assert strategy.num_replicas_in_sync == 1
    assert len(cpus) >= 1


def test_more_devices_than_available():
    available = len(
        tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
    )
    with pytest.raises(
        ConfigError,
        match=rf"`devices` asks for {available + 1} devices, but this machine has {available} .*"
        rf"Use --devices {available} or fewer",
    ):
        select_strategy(available + 1)


def test_unknown_device_name():
    with pytest.raises(
        ConfigError,
        match=r"`devices` names '/gpu:7', which this machine does not have\. Available: ",
    ):
        select_strategy(("/cpu:0", "/gpu:7"))
    with pytest.raises(ConfigError, match=r"`devices` names 'my-gpu'"):
        select_strategy(("my-gpu",))


def test_threads():
    assert resolve_threads("tf") is None
    assert resolve_threads("3,4") == (3, 4)
    if not tf.config.list_physical_devices("GPU"):
        assert resolve_threads("auto") == (1, cpu_count())
    # TensorFlow already runs in this process: the pools are fixed, and a
    # request for other sizes warns instead of failing.
    current = configure_threads("tf")
    with pytest.warns(UserWarning, match=r"thread pools are already fixed"):
        assert configure_threads(f"{current[0] + 1},{current[1] + 1}") == current
    # "auto" is best effort: no warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert configure_threads("auto") == current
