"""Training: `train(config)` from a configuration to a trained, evaluated,
exported model, the library behind `python train_tf.py`.

- `TrainConfig`: every knob, typed and checked; `make_config(preset,
  **overrides)`; presets `shapes` (default), `cifar`, `stl10`, `catdog`,
  `imagenet` (METHOD.md section 5).
- `train(config=None, *, resume=None, **overrides)` -> `TrainResult`.
- `load_run(run_dir)` -> `TrainResult`: a finished run read back from its
  folder (configuration, numbers, logs, model); `build_run_model(config,
  num_classes, image_size=None)`: the model a run of `config` trains.
- `select_strategy(devices)`, `configure_threads(threads)`: devices and
  thread pools; `MultiWorkerMirroredStrategy` runs a custom loop
  (`lficam_tf.training.multiworker`).
- The output folder, checkpoints and resuming: `lficam_tf.training.run_dir`.
- The steps of `train` (`trainer`): the data (`run_data`), the model
  (`model_setup`), the fit loop (`fitting`), the final files (`finish`).

>>> from lficam_tf.training import make_config
>>> make_config("cifar").batch_size
128
"""

import importlib

from lficam_tf.training.config import ConfigError, TrainConfig, make_config
from lficam_tf.training.errors import TrainingDiverged
from lficam_tf.training.presets import PRESETS, get_preset, list_presets

# Loaded on first use, so that `train_tf.py --help` (which imports the
# configuration only) starts without TensorFlow.
_LAZY = {
    "build_run_model": "model_setup",
    "configure_threads": "strategy",
    "load_run": "finished_runs",
    "select_strategy": "strategy",
    "TrainResult": "trainer",
    "train": "trainer",
}

__all__ = [
    "PRESETS",
    "ConfigError",
    "TrainConfig",
    "TrainResult",
    "TrainingDiverged",
    "build_run_model",
    "configure_threads",
    "get_preset",
    "list_presets",
    "load_run",
    "make_config",
    "select_strategy",
    "train",
]


def __getattr__(name):
    if name in _LAZY:
        module = importlib.import_module(f"lficam_tf.training.{_LAZY[name]}")
        return getattr(module, name)
    raise AttributeError(f"module 'lficam_tf.training' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
