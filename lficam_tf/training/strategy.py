"""Devices: thread pools, and the `tf.distribute` strategy of a run.

- `configure_threads("auto")`: TensorFlow's thread pools, set before its
  runtime starts. On a CPU-only machine one inter-op thread and one intra-op
  thread per core train faster than TensorFlow's defaults, which
  oversubscribe the cores (see `benchmarks/train_speed.py`).
- `select_strategy(devices)`: several machines when `TF_CONFIG` names
  several tasks (`MultiWorkerMirroredStrategy`); else `MirroredStrategy` over
  every GPU when there are several, or over the devices asked for; else the
  default strategy (one device).
"""

import json
import os
import warnings

import tensorflow as tf

from lficam_tf.api_export import lficam_export
from lficam_tf.training.config import ConfigError


def cpu_count():
    """Cores this process may run on (its affinity mask, not the machine's)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def resolve_threads(threads):
    """`(inter, intra)` for a `TrainConfig.threads` value, or None for TF's own."""
    if threads == "tf":
        return None
    if threads == "auto":
        if tf.config.list_physical_devices("GPU"):
            return None
        return (1, cpu_count())
    inter, intra = (int(v) for v in threads.split(","))
    return (inter, intra)


@lficam_export("lficam_tf.training.configure_threads")
def configure_threads(threads="auto"):
    """Set TensorFlow's inter-op / intra-op thread pools.

    Must run before TensorFlow executes its first operation; later, the pools
    are fixed and the run goes on with them (with a warning if sizes were
    asked for explicitly).

    Args:
        threads: `"auto"`, `"tf"` or `"INTER,INTRA"`; see `TrainConfig.threads`.
            Defaults to `"auto"`.

    Returns:
        The `(inter, intra)` pair in effect (0 means TensorFlow's choice).
    """
    wanted = resolve_threads(threads)
    if wanted is not None:
        try:
            tf.config.threading.set_inter_op_parallelism_threads(wanted[0])
            tf.config.threading.set_intra_op_parallelism_threads(wanted[1])
        except RuntimeError:
            current = _current_threads()
            # "auto" is best effort (a notebook that used TensorFlow before
            # train()); sizes asked for explicitly are worth a warning.
            if current != wanted and threads != "auto":
                warnings.warn(
                    f"TensorFlow's thread pools are already fixed at "
                    f"inter={current[0]}, intra={current[1]} (TensorFlow ran before "
                    f"train()); threads={threads!r} asked for {wanted}. Start a fresh "
                    "process to change them.",
                    stacklevel=2,
                )
    return _current_threads()


def _current_threads():
    return (
        tf.config.threading.get_inter_op_parallelism_threads(),
        tf.config.threading.get_intra_op_parallelism_threads(),
    )


def cluster_from_tf_config(environ=None):
    """The multi-worker cluster `TF_CONFIG` describes, or None for one machine.

    Returns:
        None, or a dict with `num_workers` (chief included), `task_type`,
        `task_index` and `is_chief` (the "chief" task, else worker 0).
    """
    text = (environ if environ is not None else os.environ).get("TF_CONFIG")
    if not text:
        return None
    try:
        config = json.loads(text)
        cluster = config.get("cluster", {})
        task = config.get("task", {})
        task_type, task_index = task["type"], int(task["index"])
    except (ValueError, KeyError, TypeError, AttributeError):
        raise ConfigError(
            'TF_CONFIG must be JSON like {"cluster": {"worker": ["host1:port", '
            '"host2:port"]}, "task": {"type": "worker", "index": 0}}. '
            f"Received: TF_CONFIG={text!r}"
        ) from None
    workers = len(cluster.get("chief", [])) + len(cluster.get("worker", []))
    if workers <= 1:
        return None
    is_chief = task_type == "chief" or (
        task_type == "worker" and task_index == 0 and not cluster.get("chief")
    )
    return {
        "num_workers": workers,
        "task_type": task_type,
        "task_index": task_index,
        "is_chief": is_chief,
    }


def _device_key(name):
    spec = tf.DeviceSpec.from_string(name)
    return (spec.device_type or "").upper(), spec.device_index or 0


@lficam_export("lficam_tf.training.select_strategy")
def select_strategy(devices=None):
    """The distribution strategy for `devices` on this machine or cluster.

    Args:
        devices: None (automatic: `TF_CONFIG`'s workers, else every GPU), an
            int (that many GPUs, or CPU devices on a machine without GPUs), or
            a list of device names (`["/gpu:0", "/gpu:1"]`). Defaults to
            `None`.

    Returns:
        A `tf.distribute.Strategy`: `MultiWorkerMirroredStrategy`,
        `MirroredStrategy`, `OneDeviceStrategy` or the default strategy.

    Raises:
        ConfigError: more devices than the machine has, an unknown device, or
            `devices` together with a multi-worker `TF_CONFIG`.
    """
    cluster = cluster_from_tf_config()
    if cluster is not None:
        if devices is not None:
            raise ConfigError(
                "`devices` applies to one machine, but TF_CONFIG describes a "
                f"cluster of {cluster['num_workers']} workers, each of which uses "
                f"all its GPUs. Received: devices={devices!r}. Drop --devices, or "
                "unset TF_CONFIG to train on this machine alone."
            )
        return _cached(("multi_worker",), tf.distribute.MultiWorkerMirroredStrategy)

    gpus = tf.config.list_logical_devices("GPU")
    if devices is None:
        if len(gpus) > 1:
            names = tuple(d.name for d in gpus)
            return _cached(("mirrored", names), tf.distribute.MirroredStrategy, names)
        return tf.distribute.get_strategy()

    if isinstance(devices, int):
        kind = "GPU" if gpus else "CPU"
        pool = gpus or tf.config.list_logical_devices("CPU")
        if devices > len(pool):
            raise ConfigError(
                f"`devices` asks for {devices} devices, but this machine has "
                f"{len(pool)} {kind} device(s): {', '.join(d.name for d in pool)}. "
                f"Received: devices={devices}. Use --devices {len(pool)} or fewer."
            )
        names = [d.name for d in pool[:devices]]
    else:
        available = tf.config.list_logical_devices()
        keys = {_device_key(d.name): d.name for d in available}
        names = []
        for name in devices:
            try:
                key = _device_key(name)
            except ValueError:
                key = None
            if key not in keys:
                raise ConfigError(
                    f"`devices` names {name!r}, which this machine does not have. "
                    f"Available: {', '.join(d.name for d in available)}. "
                    f"Received: devices={','.join(devices)}"
                )
            names.append(keys[key])
    if len(names) == 1:
        return _cached(("one", names[0]), tf.distribute.OneDeviceStrategy, names[0])
    names = tuple(names)
    return _cached(("mirrored", names), tf.distribute.MirroredStrategy, list(names))


#: Strategies made in this process, by kind and devices. A process reuses
#: them: a second MultiWorkerMirroredStrategy cannot be made, and a second
#: MirroredStrategy over the same devices clashes with the first one's
#: collective operations (in a notebook that trains twice, say).
_STRATEGIES = {}


def _cached(key, make, *args):
    if key not in _STRATEGIES:
        _STRATEGIES[key] = make(*args)
    return _STRATEGIES[key]


def is_multi_worker(strategy):
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


def is_chief(strategy):
    """Whether this process writes the run's files (always, on one machine)."""
    if not is_multi_worker(strategy):
        return True
    resolver = strategy.cluster_resolver
    task_type, task_id = resolver.task_type, resolver.task_id
    if task_type == "chief":
        return True
    return (
        task_type == "worker"
        and task_id == 0
        and "chief" not in (resolver.cluster_spec().as_dict())
    )
