"""The study's trained models: a run trained or resumed (`ensure_trained`),
its record (`run_record`, `<results>/runs/<dataset>/<run>.json`), its final
weights (`<results>/models/<dataset>/<run>.weights.h5`) and its final model
(`load_run_model`).

Each goes through the public training API: `lficam_tf.training.train`
trains or resumes a run, `load_run` reads a finished run back (its
configuration, numbers and model), and `build_run_model` builds a run's
model from its configuration where only the committed weights are left (a
fresh checkout without run folders).
"""

import dataclasses
import datetime
import json

from studylib.datasets import get_dataset
from studylib.paths import rel
from studylib.results_io import read_json, write_json

#: The recipe fields a run's record keeps (from its config.json).
RECIPE_FIELDS = (
    "backbone",
    "fin_width",
    "head",
    "optimizer",
    "learning_rate",
    "schedule",
    "warmup_epochs",
    "weight_decay",
    "weight_decay_mode",
    "batch_size",
    "epochs",
    "augmentation",
    "seed",
    "num_train",
    "num_test",
    "image_size",
)


def ensure_trained(study, spec):
    """Train `spec` unless finished (resuming an interrupted run); returns
    its result record, also written to `<results>/runs/<dataset>/<run>.json`."""
    import keras

    from lficam_tf.training import train
    from lficam_tf.training.run_dir import RunDir

    run = RunDir(study.run_path(spec))
    record_path = study.run_result_path(spec)
    weights_path = study.run_weights_path(spec)
    if run.finished:
        if not weights_path.is_file():
            _save_run_weights(study, spec)
        if not record_path.is_file():
            write_json(record_path, run_record(spec, run))
        return json.loads(record_path.read_text())
    if not run.started and record_path.is_file() and weights_path.is_file():
        # Finished in another checkout: its numbers and weights are committed.
        return json.loads(record_path.read_text())
    state = "resuming" if run.started else "training"
    study.say(f"{state} {spec.dataset}/{spec.name} in {run.path}")
    keras.utils.clear_session()
    train(spec.config(study))
    # The weights before the record: a record never lands without them.
    _save_run_weights(study, spec)
    record = run_record(spec, run)
    write_json(record_path, record)
    study.say(
        f"finished {spec.dataset}/{spec.name}: test accuracy "
        f"{record['test_accuracy']:.4f} in {record['wall_seconds']:.0f} s"
    )
    return record


def run_record(spec, run):
    """The numbers of a finished run (a `RunDir`), with its recipe."""
    from lficam_tf.training import load_run

    finished = load_run(run.path, load_model=False)
    metrics, config = finished.metrics, finished.config.to_dict()
    return {
        "dataset": spec.dataset,
        "run": spec.name,
        "head": spec.head,
        "variant": dataclasses.asdict(spec.variant),
        "test_accuracy": metrics["test_accuracy"],
        "best_test_accuracy": metrics["best_test_accuracy"],
        "best_epoch": metrics["best_epoch"],
        "epochs": metrics["epochs"],
        "energy_pointing_game": metrics.get("energy_pointing_game"),
        "train_images_per_second": metrics["train_images_per_second"],
        "wall_seconds": metrics["wall_seconds"],
        "train_size": metrics["train_size"],
        "test_size": metrics["test_size"],
        "image_size": metrics["image_size"],
        "recipe": {key: config.get(key) for key in RECIPE_FIELDS},
        "run_dir": rel(run.path),
        "finished": datetime.datetime.fromtimestamp(
            run.metrics.stat().st_mtime
        ).isoformat(timespec="seconds"),
    }


#: Models loaded in this process, by file and modification time: the
#: scripts of one run_study.py call share them (and the explainers traced
#: on them, which `lficam_tf.explain.get_explainer` keeps with the model).
_LOADED = {}


def load_run_model(study, spec):
    """The final model of a finished run (loaded once per process): its run
    folder's `model.keras`, or, where the folder is gone (a fresh checkout),
    the model its recipe builds with the committed weights."""
    path = study.run_path(spec) / "model.keras"
    if not path.is_file():
        path = study.run_weights_path(spec)
    key = (str(path.resolve()), path.stat().st_mtime_ns)
    if key not in _LOADED:
        if path.suffix == ".keras":
            from lficam_tf.training import load_run

            _LOADED[key] = load_run(path.parent).model
        else:
            _LOADED[key] = _model_with_weights(study, spec, path)
    return _LOADED[key]


def _model_with_weights(study, spec, path):
    from lficam_tf.training import build_run_model

    record = read_json(study.run_result_path(spec))
    model = build_run_model(
        spec.config(study),
        len(get_dataset(spec.dataset).class_names),
        tuple(record["image_size"]),
    )
    model.load_weights(path)
    model.compile()
    return model


def _save_run_weights(study, spec):
    path = study.run_weights_path(spec)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_model_weights(load_run_model(study, spec), path)


def save_model_weights(model, path):
    """`model`'s weights without its optimizer's state, which a compiled
    model's `save_weights` adds (twice the weights for SGD with momentum)."""
    copy = type(model).from_config(model.get_config())
    copy.set_weights(model.get_weights())
    copy.save_weights(path)
