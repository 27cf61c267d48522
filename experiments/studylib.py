"""What the experiment scripts share: sizes, data, runs, results, figures.

The study (experiments/README.md) trains every model once, in a run folder
named after the model (`<runs>/<dataset>/<head>-<variant>`), with
`lficam_tf.training.train`. A finished run (its `metrics.json` exists) is
skipped; an unfinished one (killed) is resumed by the same call, from its
last epoch (`lficam_tf.training.run_dir`). Each finished run writes its
numbers at once to `<results>/runs/<dataset>/<run>.json`, and each script
writes its own `<results>/<experiment>.json`, so that an interrupted study
loses at most the epoch in flight and its results can be committed as they
land.

Sizes (`SIZES`): `full` is the study; `tiny` runs every script end to end
in seconds (the tests: a few images of 16x16 or 32x32, one epoch).
"""

import argparse
import contextlib
import dataclasses
import datetime
import json
import os
import pathlib
import platform
import shutil
import sys
import tarfile
import tempfile
import time

from lficam_tf.choices import METHOD_TITLES, POST_HOC_METHODS

HERE = pathlib.Path(__file__).resolve().parent
#: The checkout the study writes into (results, docs/RESULTS.md, README,
#: shipped weights): this one, or the one whose code `study_bg.sh` runs a
#: frozen copy of (it sets LFICAM_STUDY_REPO).
REPO = pathlib.Path(os.environ.get("LFICAM_STUDY_REPO") or HERE.parent).resolve()
#: The shared CIFAR-10 tarballs (../shared/data, see its README).
SHARED_DATA = REPO.parent / "shared" / "data"
#: Results written by the scripts, committed with the repository.
RESULTS = REPO / "experiments" / "results"
#: Training run folders (large: models, checkpoints, exports; not committed).
RUNS = REPO / "experiments" / "runs"
#: Where the CIFAR-10 tarballs are unpacked (outside the repository).
CACHE = pathlib.Path(
    os.environ.get("LFICAM_DATA_CACHE", pathlib.Path.home() / ".cache" / "lficam_tf")
)

DATASETS = ("cifar10", "shapes")
HEAD_TITLES = {"lficam": "LFI-CAM", "abn": "ABN", "baseline": "baseline"}

#: The paper's average IoU across 5 models (METHOD.md section 6 item 3).
PAPER_STABILITY = {
    "cifar10": {"abn": 0.29, "lficam": 0.60},
    "stl10": {"abn": 0.32, "lficam": 0.64},
    "catdog": {"abn": 0.30, "lficam": 0.73},
}


@dataclasses.dataclass(frozen=True)
class Size:
    """How big the study is; `SIZES["full"]` or `SIZES["tiny"]`."""

    name: str
    #: CIFAR-10 training: epochs of the accuracy runs (and of the
    #: stability variants that are accuracy runs), epochs of the other
    #: stability variants, images (None: all) and input size.
    cifar_epochs: int
    cifar_variant_epochs: int
    cifar_num_train: int | None
    cifar_num_test: int | None
    cifar_image_size: int | None
    #: "shapes" training: epochs, images, input size (None: 64, the default).
    shapes_epochs: int
    shapes_num_train: int | None
    shapes_num_test: int | None
    shapes_image_size: int | None
    #: Seeds of the accuracy runs, and variants per method for stability.
    seeds: int
    variants: int
    #: Fixed test images of the stability maps and of the metrics.
    stability_images: int
    eval_images: dict
    #: Deletion / insertion steps.
    steps: int
    #: Methods scored by localization.py and faithfulness.py ("native" is
    #: the model's own map).
    eval_methods: tuple
    #: ROAD's percentages of removed pixels in those scores.
    road_percentages: tuple
    #: Images per forward pass of the evaluations.
    batch_size: int
    #: XLA-compile the CIFAR-10 training steps (None: the package decides,
    #: `lficam_tf.training.model_setup.use_xla`). On 2026-11-29's AVX2 host
    #: XLA was faster (one epoch of 3,840 images, interleaved, twice: LFI-CAM
    #: 118 / 130 -> 152 / 149 images/s, baseline 160 / 145 -> 172 / 163); on
    #: 2026-12-05's AVX-512 host slower (LFI-CAM 373 -> 244, ABN 228 -> 167).
    #: Off at the tiny size, where compiling would cost more than it saves.
    cifar_jit_compile: bool | None = False


SIZES = {
    "full": Size(
        name="full",
        cifar_epochs=15,
        # The three other CIFAR-10 stability models per method train for a
        # third of the accuracy runs' epochs: at 15 they alone would take
        # ~7 h on the study's machine (2026-12-05 speeds: LFI-CAM 261, ABN
        # 152 images/s), at 5 ~2.3 h, which keeps the study near the
        # issue's budget beside the 6 accuracy runs (~6.3 h, its minimum).
        cifar_variant_epochs=5,
        cifar_num_train=None,
        cifar_num_test=None,
        cifar_image_size=None,
        shapes_epochs=3,
        shapes_num_train=8000,
        shapes_num_test=1000,
        shapes_image_size=None,
        seeds=2,
        variants=5,
        stability_images=1000,
        eval_images={"cifar10": 500, "shapes": 300},
        steps=50,
        # Every method of the package: where LFI-CAM's own map ranks.
        eval_methods=("native",) + POST_HOC_METHODS,
        # pytorch-grad-cam's ROAD percentages (its tutorial's and the
        # `ROADCombined` example's): 8 sparse solves per image, method and
        # model instead of the paper's 18 (10..90), which on "shapes"'
        # 64x64 images would cost about an hour of the study for the solves.
        road_percentages=(20, 40, 60, 80),
        batch_size=100,
        cifar_jit_compile=None,
    ),
    "tiny": Size(
        name="tiny",
        cifar_epochs=1,
        cifar_variant_epochs=1,
        cifar_num_train=48,
        cifar_num_test=16,
        cifar_image_size=16,
        shapes_epochs=1,
        shapes_num_train=48,
        shapes_num_test=16,
        shapes_image_size=32,
        seeds=1,
        variants=2,
        stability_images=6,
        eval_images={"cifar10": 4, "shapes": 4},
        steps=3,
        eval_methods=("native", "gradcam"),
        road_percentages=(50,),
        batch_size=8,
    ),
}


# --- The models of the study, as data ---------------------------------------


@dataclasses.dataclass(frozen=True)
class Variant:
    """One training recipe: the changes to the dataset's base recipe."""

    name: str
    seed: int
    learning_rate: float | None = None
    weight_decay: float | None = None
    batch_size: int | None = None

    def overrides(self):
        values = {"seed": self.seed}
        for key in ("learning_rate", "weight_decay", "batch_size"):
            if getattr(self, key) is not None:
                values[key] = getattr(self, key)
        return values


#: Base recipes. CIFAR-10: the paper's SGD (lr 0.1, momentum 0.9, weight
#: decay 1e-4 coupled, batch 128, padded crop + flip; the `cifar` preset) on
#: ResNet-20 for 15 epochs with a cosine schedule instead of the paper's
#: steps at 150 / 225 of 300 epochs (see experiments/README.md, "Recipe").
#: shapes: the `shapes` preset (AdamW lr 2e-3, cosine with half an epoch of
#: warm-up, weight decay 5e-4 decoupled, batch 64, 8,000 64x64 images).
BASE_RECIPES = {
    "cifar10": {
        "preset": "cifar",
        "backbone": "cifar_resnet20",
        "schedule": "cosine",
    },
    "shapes": {"preset": "shapes", "backbone": "cifar_resnet20"},
}

#: The 5 recipes per method of the stability experiment: each changes the
#: learning rate, the weight decay or the batch size, and the seed. The
#: first `seeds` of them (the base recipe with seeds 0, 1) are also the
#: accuracy runs.
VARIANTS = {
    "cifar10": (
        Variant("s0", seed=0),
        Variant("s1", seed=1),
        Variant("lr0.05-s2", seed=2, learning_rate=0.05),
        Variant("wd5e-4-s3", seed=3, weight_decay=5e-4),
        Variant("b256-s4", seed=4, batch_size=256),
    ),
    "shapes": (
        Variant("s0", seed=0),
        Variant("s1", seed=1),
        Variant("lr1e-3-s2", seed=2, learning_rate=1e-3),
        Variant("wd5e-3-s3", seed=3, weight_decay=5e-3),
        Variant("b128-s4", seed=4, batch_size=128),
    ),
}


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """One model of the study: dataset, head, recipe variant, epochs, input
    size (None: the dataset's own, 32 for CIFAR-10, 64 for shapes), backbone
    (None: the base recipe's) and FIN width (`build_model`'s `fin_width`:
    "auto", None for the paper's K -> K, or an int)."""

    dataset: str
    head: str
    variant: Variant
    epochs: int
    image_size: int | None = None
    backbone: str | None = None
    fin_width: int | str | None = "auto"

    @property
    def name(self):
        """The run's folder and result name, e.g. `lficam-lr0.05-s2-e15`
        (`-i32` added for an input size other than the dataset's own, then
        `-<backbone>` for another backbone than the recipe's and `-w16` /
        `-wfull` for a FIN width other than the backbone's default)."""
        size = "" if self.image_size is None else f"-i{self.image_size}"
        backbone = "" if self.backbone is None else f"-{self.backbone}"
        width = {"auto": "", None: "-wfull"}.get(self.fin_width, f"-w{self.fin_width}")
        return f"{self.head}-{self.variant.name}-e{self.epochs}{size}{backbone}{width}"

    def config(self, study):
        """The run's `TrainConfig` (resolved preset + overrides)."""
        from lficam_tf.training import make_config

        recipe = dict(BASE_RECIPES[self.dataset])
        preset = recipe.pop("preset")
        size = study.size
        if self.dataset == "cifar10":
            recipe.update(
                dataset=str(study.cifar_dir()),
                num_train=size.cifar_num_train,
                num_test=size.cifar_num_test,
                jit_compile=size.cifar_jit_compile,
            )
        else:
            recipe.update(
                num_train=size.shapes_num_train,
                num_test=size.shapes_num_test,
            )
        recipe.update(
            self.variant.overrides(), epochs=self.epochs, image_size=self.image_size
        )
        if self.backbone is not None:
            recipe["backbone"] = self.backbone
        if self.fin_width != "auto":
            recipe["fin_width"] = self.fin_width
        return make_config(
            preset,
            head=self.head,
            output_dir=str(study.run_path(self)),
            verbose=study.verbose,
            **recipe,
        )


def variant_specs(size, dataset, heads, count):
    """RunSpecs of the first `count` variants of `dataset` for each head.

    On CIFAR-10 the first `size.seeds` variants (the accuracy runs) train
    for `size.cifar_epochs` epochs, the others for
    `size.cifar_variant_epochs`; on "shapes" all for `size.shapes_epochs`.
    """
    specs = []
    for index, variant in enumerate(VARIANTS[dataset][:count]):
        if dataset != "cifar10":
            epochs, image_size = size.shapes_epochs, size.shapes_image_size
        elif index < size.seeds:
            epochs, image_size = size.cifar_epochs, size.cifar_image_size
        else:
            epochs, image_size = size.cifar_variant_epochs, size.cifar_image_size
        specs += [RunSpec(dataset, head, variant, epochs, image_size) for head in heads]
    return specs


# --- The study's folders and settings ----------------------------------------


class Study:
    """Folders, size and data of one invocation of a script."""

    def __init__(
        self,
        size="full",
        results=None,
        runs=None,
        cifar_dir=None,
        shared_data=None,
        figures=None,
        verbose=2,
    ):
        self.size = SIZES[size] if isinstance(size, str) else size
        self.results = pathlib.Path(results or RESULTS)
        self.runs = pathlib.Path(runs or RUNS)
        self._cifar_dir = pathlib.Path(cifar_dir) if cifar_dir else None
        self.shared_data = pathlib.Path(shared_data or SHARED_DATA)
        self.figures = pathlib.Path(figures) if figures else self.results / "figures"
        self.verbose = verbose

    @classmethod
    def from_args(cls, args):
        size = SIZES["tiny" if args.tiny else "full"]
        changes = {
            field: getattr(args, field)
            for field in (
                "cifar_epochs",
                "cifar_variant_epochs",
                "seeds",
                "variants",
                "shapes_image_size",
            )
            if getattr(args, field, None) is not None
        }
        if changes.get("variants", 2) < 2:
            raise SystemExit(
                f"--variants {changes['variants']}: stability compares pairs of "
                "models, so it needs at least 2 models per method"
            )
        return cls(
            size=dataclasses.replace(size, **changes),
            results=args.results,
            runs=args.runs,
            cifar_dir=args.cifar_dir,
            shared_data=args.shared_data,
            verbose=0 if args.quiet else 2,
        )

    def run_path(self, spec):
        return self.runs / spec.dataset / spec.name

    def run_result_path(self, spec):
        return self.results / "runs" / spec.dataset / f"{spec.name}.json"

    def run_weights_path(self, spec):
        """A finished run's final weights, committed with its numbers: the
        run folders (checkpoints, logs) are not in git, and a fresh checkout
        of the study would otherwise train every model again."""
        return self.results / "models" / spec.dataset / f"{spec.name}.weights.h5"

    def cifar_dir(self):
        """The CIFAR-10 image folder (unpacked from the tarballs once)."""
        if self._cifar_dir is None:
            self._cifar_dir = unpack_cifar10(self.shared_data, CACHE, say=self.say)
        return self._cifar_dir

    def say(self, text):
        if self.verbose:
            print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


def add_common_arguments(parser):
    """The options every experiment script takes."""
    parser.add_argument(
        "--tiny",
        action="store_true",
        help="a few images, one epoch: runs end to end in seconds (tests)",
    )
    parser.add_argument(
        "--results",
        metavar="DIR",
        help=f"where the JSON results go (default: {RESULTS.relative_to(REPO)})",
    )
    parser.add_argument(
        "--runs",
        metavar="DIR",
        help=f"training run folders (default: {RUNS.relative_to(REPO)}, not committed)",
    )
    parser.add_argument(
        "--cifar-dir",
        metavar="DIR",
        help="a CIFAR-10 image folder with train/ and test/ (default: the "
        f"shared tarballs unpacked once into {CACHE}/cifar10_jpeg)",
    )
    parser.add_argument(
        "--shared-data",
        metavar="DIR",
        help=f"folder of the CIFAR-10 tarballs (default: {SHARED_DATA})",
    )
    # The defaults shown are the sizes' own, so that the help cannot go stale.
    full, tiny = SIZES["full"], SIZES["tiny"]
    parser.add_argument(
        "--cifar-epochs",
        type=int,
        metavar="N",
        help="epochs of the CIFAR-10 accuracy runs (default: "
        f"{full.cifar_epochs}; --tiny: {tiny.cifar_epochs})",
    )
    parser.add_argument(
        "--cifar-variant-epochs",
        type=int,
        metavar="N",
        help="epochs of the other CIFAR-10 stability models (default: "
        f"{full.cifar_variant_epochs}; --tiny: {tiny.cifar_variant_epochs}); "
        "the epochs are part of each run's name",
    )
    parser.add_argument(
        "--seeds",
        type=int,
        metavar="N",
        help=f"seeds per head of the accuracy runs (default: {full.seeds}; "
        f"--tiny: {tiny.seeds})",
    )
    parser.add_argument(
        "--variants",
        type=int,
        metavar="N",
        help=f"models per method in the stability study (default: "
        f"{full.variants}; --tiny: {tiny.variants}); fewer gives an interim "
        "result from the first N, which a later run with the default recomputes",
    )
    parser.add_argument(
        "--shapes-image-size",
        type=int,
        metavar="S",
        help="input size of the shapes models (default: 64, the preset's; "
        "32 trains about 4x faster; --tiny: 32); part of each run's name",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    return parser


def common_argv(args):
    """The command-line flags of `args`' common options, for another script.

    The inverse of `add_common_arguments`: every option it declares and
    `args` sets is given back as its flag, so that a script running the
    others (`run_study.py`) passes all of them on, including ones added
    later.
    """
    argv = []
    for action in add_common_arguments(argparse.ArgumentParser())._actions:
        if not action.option_strings or action.dest == "help":
            continue
        value = getattr(args, action.dest, None)
        flag = action.option_strings[-1]
        if isinstance(action, argparse._StoreTrueAction):
            argv += [flag] if value else []
        elif value is not None:
            argv += [flag, str(value)]
    return argv


# --- Data --------------------------------------------------------------------


def unpack_cifar10(shared_data=SHARED_DATA, cache=CACHE, say=None):
    """The CIFAR-10 image folder `<cache>/cifar10_jpeg` (train/, test/).

    Unpacked once from `<shared_data>/cifar10_jpeg_{train,test}.tar.gz` into
    a temporary folder that is renamed when complete, so a killed unpack
    never looks finished; later calls return the folder at once.
    """
    target = pathlib.Path(cache) / "cifar10_jpeg"
    if (target / "train").is_dir() and (target / "test").is_dir():
        return target
    shared_data = pathlib.Path(shared_data)
    archives = [shared_data / f"cifar10_jpeg_{split}.tar.gz" for split in ("train", "test")]
    missing = [str(a) for a in archives if not a.is_file()]
    if missing:
        raise FileNotFoundError(
            f"The CIFAR-10 tarballs are absent: {', '.join(missing)}. Pass "
            "--shared-data DIR (the folder holding cifar10_jpeg_train.tar.gz "
            "and cifar10_jpeg_test.tar.gz) or --cifar-dir DIR (an unpacked "
            "image folder with train/ and test/)."
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    tmp = tempfile.mkdtemp(prefix=".cifar10_jpeg.partial-", dir=target.parent)
    try:
        for archive in archives:
            with tarfile.open(archive) as tar:
                tar.extractall(tmp, filter="data")
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if say:
        say(f"unpacked CIFAR-10 into {target} in {time.perf_counter() - start:.0f} s")
    return target


def test_images(study, dataset, image_size, count):
    """`(images, labels, masks or None, class names)`: the first `count`
    test images of `dataset` in a fixed order (seed 0), the same for every
    model; the loader of `lficam-eval`."""
    from lficam_tf.evaluation import load_test_images

    source = str(study.cifar_dir()) if dataset == "cifar10" else dataset
    images, labels, masks, names, _ = load_test_images(source, image_size, count, seed=0)
    return images, labels, masks, names


# --- Training ------------------------------------------------------------------


def ensure_trained(study, spec):
    """Train `spec` unless finished (resuming an interrupted run); returns
    its result record, also written to `<results>/runs/<dataset>/<run>.json`."""
    from lficam_tf.training import train
    from lficam_tf.training.run_dir import RunDir

    import keras

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
    """The numbers of a finished run, with its recipe and the command."""
    metrics = json.loads(run.metrics.read_text())
    config = json.loads(run.config.read_text())
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
        "recipe": {
            key: config.get(key)
            for key in (
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
        },
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
    import keras

    import lficam_tf.models  # noqa: F401  Registers the classes.

    path = study.run_path(spec) / "model.keras"
    if not path.is_file():
        path = study.run_weights_path(spec)
    key = (str(path.resolve()), path.stat().st_mtime_ns)
    if key not in _LOADED:
        if path.suffix == ".keras":
            _LOADED[key] = keras.saving.load_model(path)
        else:
            _LOADED[key] = _model_with_weights(study, spec, path)
    return _LOADED[key]


def _model_with_weights(study, spec, path):
    from lficam_tf.data.shapes import SHAPES_CLASS_NAMES
    from lficam_tf.presets import CIFAR10_CLASS_NAMES
    from lficam_tf.training.model_setup import build_for_config

    classes = {"cifar10": CIFAR10_CLASS_NAMES, "shapes": SHAPES_CLASS_NAMES}
    record = read_json(study.run_result_path(spec))
    model = build_for_config(
        spec.config(study), len(classes[spec.dataset]), tuple(record["image_size"])
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


# --- Results -----------------------------------------------------------------


#: Fields of `header` that change on every call of a script, results or not.
STAMP_FIELDS = ("updated", "script_seconds")


def write_json(path, data):
    """Write `data` as JSON, atomically (a killed write leaves the old file).

    A file whose content differs from `data` only in `STAMP_FIELDS` is left
    as it is: a rerun that finds every run finished (a resumed study) then
    leaves no change to commit, and the file keeps the time of the call that
    computed it."""
    from lficam_tf.training.run_dir import atomic_write_text

    text = json.dumps(data, indent=2, default=_jsonable) + "\n"
    old = read_json(path)
    if old is not None:
        new = json.loads(text)
        for record in (old, new):
            for field in STAMP_FIELDS:
                record.pop(field, None)
        if old == new:
            return
    atomic_write_text(path, text)


def _jsonable(value):
    import numpy as np

    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pathlib.PurePath):
        return str(value)
    raise TypeError(f"not JSON-able: {type(value).__name__}")


def read_json(path):
    path = pathlib.Path(path)
    return json.loads(path.read_text()) if path.is_file() else None


def machine():
    """A description of the machine the numbers were measured on."""
    import keras
    import tensorflow as tf

    cpu = platform.processor() or ""
    with contextlib.suppress(OSError):
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count()
    return {
        "cpu": cpu,
        "cores": cores,
        "gpus": len(tf.config.list_physical_devices("GPU")),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
    }


def command_line():
    """The command that is running, as typed (relative to the repository)."""
    script = pathlib.Path(sys.argv[0])
    with contextlib.suppress(ValueError):
        script = script.resolve().relative_to(HERE.parent)
    return " ".join(["python", str(script), *sys.argv[1:]])


def header(study, experiment, started):
    """The fields every experiment JSON starts with."""
    return {
        "experiment": experiment,
        "size": study.size.name,
        "command": command_line(),
        "machine": machine(),
        "updated": datetime.datetime.now().isoformat(timespec="seconds"),
        "script_seconds": time.perf_counter() - started,
    }


def mean_std(values):
    """`(mean, sample standard deviation or None for one value)`."""
    import numpy as np

    values = np.asarray(values, float)
    if not len(values):
        return None, None
    std = float(np.std(values, ddof=1)) if len(values) > 1 else None
    return float(np.mean(values)), std


def configure_threads():
    """TensorFlow's thread pools as training sets them, before any TF op."""
    from lficam_tf.training import configure_threads as configure

    configure("auto")


def save_figure(figure, path):
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=90)
    return path


# --- The metrics of the explanations (localization, faithfulness) -----------

#: The rows the issue asks for: each head's own map, post-hoc on the baseline.
PRIMARY_ROWS = (
    ("lficam", "lficam"),
    ("abn", "abn"),
    ("baseline", "gradcam"),
    ("baseline", "gradcam++"),
    ("baseline", "scorecam"),
)


def evaluation_specs(size, dataset):
    """The models whose maps are scored: each head with the base recipe, seed 0."""
    return variant_specs(size, dataset, ("lficam", "abn", "baseline"), 1)


def evaluation_piece(study, dataset, head, model, method, images, labels, masks, wanted):
    """The `Evaluation` of one model and method, saved as it finishes so
    that a killed evaluation resumes (`evaluation_report` merges the pieces).

    A piece is its report as JSON (metrics, curves, the explained classes:
    a few kB, committed with the results, `eval_<dataset>/pieces/`) and its
    maps and probabilities as .npz beside the run folders (MBs, not
    committed). A piece whose JSON has the same settings is not scored
    again; without its .npz (a fresh checkout) its maps are explained again
    for the same classes, which costs one `explain` call, not the metrics.
    """
    import numpy as np

    from lficam_tf.evaluation.evaluate import Evaluation, evaluate
    from lficam_tf.explain import Explanation, explain

    stem = f"{head}-{method}"
    report = study.results / f"eval_{dataset}" / "pieces" / f"{stem}.json"
    arrays = study.runs / f"eval_{dataset}_pieces" / f"{stem}.npz"
    saved = read_json(report)
    if saved is None or saved.get("study") != wanted:
        study.say(f"{head}: {method}")
        evaluation = evaluate(
            [model],
            images,
            labels=labels,
            masks=masks,
            model_names=[head],
            methods=[method],
            target="predicted",
            batch_size=study.size.batch_size,
            steps=study.size.steps,
            road_percentages=study.size.road_percentages,
        )
        explanation = evaluation.explanations[head][method]
        _save_maps(arrays, explanation)
        write_json(
            report,
            {
                **evaluation.to_json(),
                "layer": explanation.layer,
                "class_index": explanation.class_index,
                "study": wanted,
            },
        )
        return evaluation
    if arrays.is_file():
        with np.load(arrays) as data:
            explanation = Explanation(
                maps=data["maps"],
                probabilities=data["probabilities"],
                class_index=data["class_index"],
                method=method,
                layer=saved["layer"],
            )
    else:
        study.say(f"{head}: {method} (maps only; its scores are saved)")
        explanation = explain(
            model,
            images,
            method=method,
            class_index=np.asarray(saved["class_index"]),
            batch_size=study.size.batch_size,
        )
        _save_maps(arrays, explanation)
    curves = saved["curves"]
    return Evaluation(
        model_names=[head],
        kinds={head: saved["models"][0]["kind"]},
        accuracy={head: saved["models"][0]["accuracy"]},
        methods={head: [method]},
        metrics=saved["metrics"],
        curves={
            head: {method: {k: np.asarray(v) for k, v in curves[head][method].items()}}
        },
        fractions=np.asarray(curves["fractions"]),
        stability={},
        explanations={head: {method: explanation}},
        config=saved["config"],
    )


def _save_maps(path, explanation):
    import numpy as np

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez_compressed(
        tmp,
        maps=explanation.maps,
        probabilities=explanation.probabilities,
        class_index=explanation.class_index,
    )
    tmp.replace(path)


def evaluation_report(study, dataset):
    """Every metric of every method on the three models of `dataset`.

    Runs `lficam_tf.evaluation.evaluate` (the library of `lficam-eval`) on
    the first test images of a fixed order and writes its report (JSON,
    Markdown, curves, example maps) to `<results>/eval_<dataset>/`, plus
    the same images explained by every model and method side by side in
    `<results>/figures/compare_<dataset>.png`. An existing report of the same
    models and settings is read instead (localization.py and
    faithfulness.py share it).

    Returns:
        The dict of `report.json`.
    """
    specs = evaluation_specs(study.size, dataset)
    records = {spec.head: ensure_trained(study, spec) for spec in specs}
    folder = study.results / f"eval_{dataset}"
    wanted = {
        "num_images": study.size.eval_images[dataset],
        "steps": study.size.steps,
        "methods": list(study.size.eval_methods),
        "road_percentages": list(study.size.road_percentages),
        "runs": {head: record["run"] for head, record in records.items()},
        "finished": {head: record["finished"] for head, record in records.items()},
    }
    report = read_json(folder / "report.json")
    if report is not None and report.get("study") == wanted:
        return report

    # The submodules: `lficam_tf.evaluation.evaluate` is also a module name.
    from lficam_tf.evaluation.evaluate import merge_evaluations, methods_for
    from lficam_tf.evaluation.report import write_report
    from lficam_tf.explain import plot_explanations

    models = [load_run_model(study, spec) for spec in specs]
    size = records["lficam"]["image_size"]
    images, labels, masks, class_names = test_images(
        study, dataset, size, wanted["num_images"]
    )
    start = time.perf_counter()
    study.say(f"{dataset}: scoring {wanted['methods']} on {len(images)} images")
    # One piece per model and method, each saved as it finishes: a killed
    # evaluation resumes from the pieces done (`merge_evaluations`).
    pieces = []
    for spec, model in zip(specs, models):
        for method in methods_for(model, wanted["methods"]):
            pieces.append(
                evaluation_piece(
                    study, dataset, spec.head, model, method,
                    images, labels, masks, {**wanted, "runs": wanted["runs"][spec.head],
                                            "finished": wanted["finished"][spec.head]},
                )
            )
    evaluation = merge_evaluations(pieces)
    seconds = time.perf_counter() - start
    write_report(
        evaluation,
        folder,
        images,
        labels,
        class_names,
        f"{dataset} test split, first {len(images)} images of a fixed order (seed 0)",
        examples=min(6, len(images)),
    )
    # One figure per model (its methods side by side), and the model's own
    # map beside Grad-CAM on every model in one.
    for head, per_method in evaluation.explanations.items():
        columns = {METHOD_TITLES[m]: result.maps[:6] for m, result in per_method.items()}
        figure = plot_explanations(images[:6], columns, cell_size=1.3)
        figure.suptitle(
            f"{dataset}: the same test images explained by every method "
            f"({HEAD_TITLES[head]} model)",
            fontsize=10,
        )
        save_figure(figure, study.figures / f"compare_{dataset}_{head}.png")
    columns = {
        f"{METHOD_TITLES[method]}\n({HEAD_TITLES[head]} model)": result.maps[:6]
        for head, per_method in evaluation.explanations.items()
        for method, result in per_method.items()
        if method in ("lficam", "abn", "gradcam")
    }
    figure = plot_explanations(images[:6], columns, cell_size=1.3)
    figure.suptitle(
        f"{dataset}: the same test images, each model's own map and Grad-CAM",
        fontsize=10,
    )
    save_figure(figure, study.figures / f"compare_{dataset}.png")
    report = json.loads((folder / "report.json").read_text())
    report["study"] = wanted
    report["eval_seconds"] = seconds
    report["mask_fraction"] = None if masks is None else float(masks.mean())
    report["model_records"] = records
    write_json(folder / "report.json", report)
    return report


def metric_rows(report, keys):
    """Rows `{model, method, primary, <key>: value}` of a report, primary first."""
    rows = []
    for model, per_method in report["metrics"].items():
        for method, values in per_method.items():
            rows.append(
                {
                    "model": model,
                    "method": method,
                    "primary": (model, method) in PRIMARY_ROWS,
                    **{key: values.get(key) for key in keys},
                }
            )
    order = {row: i for i, row in enumerate(PRIMARY_ROWS)}
    rows.sort(key=lambda r: (not r["primary"], order.get((r["model"], r["method"]), 0)))
    return rows


# --- Shipped checkpoints -------------------------------------------------------


def slice_files(test_dir, every=10):
    """`(paths, labels, class names)`: every `every`-th file of the sorted
    CIFAR-10 test files (`test/<class>/<file>`); every=10 is the fixed
    1,000-image slice the tests check the shipped checkpoints on."""
    test_dir = pathlib.Path(test_dir)
    class_names = sorted(p.name for p in test_dir.iterdir() if p.is_dir())
    files = sorted(test_dir.glob("*/*.jpg"))
    chosen = files[::every]
    labels = [class_names.index(p.parent.name) for p in chosen]
    return [str(p) for p in chosen], labels, class_names


def folder_accuracy(model, test_dir, every=1, batch_size=250):
    """`(accuracy, number of images)` of `model` on `slice_files(...)`,
    decoded as the package's image folders decode them (TensorFlow's
    decoder, RGB 0..255, 32x32 as stored) and prepared by the package's
    evaluation pipeline (`lficam_tf.data.build_pipeline`, which resizes them
    for a model of another input size, as the tiny study's 16x16)."""
    import numpy as np
    import tensorflow as tf

    from lficam_tf.data import build_pipeline

    paths, labels, _ = slice_files(test_dir, every)

    def read(path, label):
        image = tf.io.decode_image(
            tf.io.read_file(path), channels=3, expand_animations=False
        )
        return tf.ensure_shape(image, (32, 32, 3)), label

    files = tf.data.Dataset.from_tensor_slices((paths, labels)).map(read)
    batches = build_pipeline(
        files,
        batch_size,
        training=False,
        image_size=tuple(model.inputs[0].shape[1:3]),
        cache=False,
    )
    correct = 0
    for images, batch_labels in batches:
        logits = model(images, training=False)["logits"]
        correct += int(np.sum(np.argmax(np.asarray(logits), axis=-1) == batch_labels.numpy()))
    return correct / len(labels), len(labels)


def replace_block(text, name, content):
    """`text` with the lines between `<!-- name:begin -->` and
    `<!-- name:end -->` replaced by `content`."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    if begin not in text or end not in text:
        raise ValueError(f"markers {begin} / {end} are missing")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{begin}\n{content.strip()}\n{end}{tail}"


def update_file_block(path, name, content):
    path = pathlib.Path(path)
    from lficam_tf.training.run_dir import atomic_write_text

    atomic_write_text(path, replace_block(path.read_text(), name, content))


def rel(path):
    """`path` relative to the repository when inside it (for the JSON)."""
    path = pathlib.Path(path)
    with contextlib.suppress(ValueError):
        return str(path.resolve().relative_to(REPO))
    return str(path)
