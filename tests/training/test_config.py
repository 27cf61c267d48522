"""TrainConfig, presets and make_config: values, normalisation, every error."""

import dataclasses
import json

import pytest

from lficam_tf.training import ConfigError, TrainConfig, get_preset, list_presets
from lficam_tf.training.config import RESUME_IGNORED, scale_lr_steps
from lficam_tf.training.trainer import make_config


def test_default_is_the_shapes_preset():
    config = make_config()
    assert config.preset == "shapes"
    assert config.dataset == "shapes"
    assert config.head == "lficam"
    for key, value in get_preset("shapes").items():
        assert getattr(config, key) == value, key


@pytest.mark.parametrize("name", ["cifar", "stl10", "catdog", "imagenet"])
def test_paper_presets_follow_method_section_5(name):
    config = make_config(name)
    assert (config.optimizer, config.learning_rate) == ("sgd", 0.1)
    assert config.momentum is None  # SGD's 0.9, applied by make_optimizer
    assert (config.schedule, config.lr_steps, config.epochs) == (
        "step",
        (150, 225),
        300,
    )
    assert config.weight_decay == 1e-4
    expected = {
        "cifar": ("cifar10", "cifar_resnet110", 128, "cifar", None),
        "stl10": ("stl10", "resnet18", 256, "imagenet", (224, 224)),
        "catdog": ("cats_vs_dogs", "resnet18", 256, "imagenet", (224, 224)),
        "imagenet": ("imagenet2012", "resnet50", 256, "imagenet", (224, 224)),
    }[name]
    assert (
        config.dataset,
        config.backbone,
        config.batch_size,
        config.augmentation,
        config.image_size,
    ) == expected


def test_every_field_can_be_overridden():
    base = make_config("cifar")
    changed = {
        "dataset": "cifar100",
        "backbone": "cifar_resnet20",
        "head": "abn",
        "epochs": 8,
        "batch_size": 32,
        "learning_rate": 0.05,
        "lr_steps": (4, 6),
        "weight_decay": 5e-4,
        "momentum": 0.8,
        "image_size": 40,
        "augmentation": "none",
        "randaugment": True,
        "mixup": 0.2,
        "cutmix": 1.0,
        "devices": 2,
        "mixed_precision": "bfloat16",
        "jit_compile": True,
    }
    config = make_config("cifar", **changed)
    for key, value in changed.items():
        if key == "image_size":
            value = (40, 40)
        assert getattr(config, key) == value, key
    assert base.epochs == 300  # presets are not modified in place


def test_schedule_override_drops_the_presets_schedule_options():
    config = make_config("cifar", schedule="cosine")
    assert (config.schedule, config.lr_steps) == ("cosine", ())
    config = make_config("shapes", schedule="step", lr_steps="1,2")
    assert (config.lr_steps, config.warmup_epochs) == ((1, 2), 0.0)
    # Given explicitly, they still conflict.
    with pytest.raises(
        ConfigError, match=r"`lr_steps` applies to schedule='step' only"
    ):
        make_config("cifar", schedule="cosine", lr_steps=(150, 225))


def test_backbone_override_drops_the_presets_stem_stride():
    """`shapes` trains cifar_resnet8 with a stride-2 stem; another backbone
    gets its own default stem, unless a stem stride is given too."""
    assert (make_config("shapes").backbone, make_config("shapes").stem_stride) == (
        "cifar_resnet8",
        2,
    )
    assert make_config("shapes", backbone="mobilenetv2").stem_stride is None
    assert make_config("shapes", backbone="cifar_resnet8").stem_stride == 2
    config = make_config("shapes", backbone="cifar_resnet20", stem_stride=2)
    assert config.stem_stride == 2


def test_lr_steps_follow_an_epochs_override():
    assert make_config("cifar", epochs=30).lr_steps == (15, 22)
    # Explicit steps win.
    assert make_config("cifar", epochs=30, lr_steps="10,20").lr_steps == (10, 20)
    # No step left: a constant rate.
    config = make_config("cifar", epochs=1)
    assert (config.schedule, config.lr_steps) == ("constant", ())
    assert scale_lr_steps((150, 225), 300, 4) == (2, 3)


@pytest.mark.parametrize(
    "value, expected",
    [
        (64, (64, 64)),
        ("64", (64, 64)),
        ("64x48", (64, 48)),
        ((32, 16), (32, 16)),
        ([8, 9], (8, 9)),
        (None, None),
    ],
)
def test_image_size_forms(value, expected):
    assert make_config(image_size=value).image_size == expected


@pytest.mark.parametrize(
    "value, expected",
    [
        (2, 2),
        ("3", 3),
        ("/gpu:0,/gpu:1", ("/gpu:0", "/gpu:1")),
        (["/cpu:0"], ("/cpu:0",)),
        (None, None),
    ],
)
def test_devices_forms(value, expected):
    assert make_config(devices=value).devices == expected


def test_json_round_trip_and_differences():
    config = make_config("stl10", epochs=20, devices=("/gpu:0", "/gpu:1"))
    text = config.to_json()
    assert json.loads(text)["image_size"] == [224, 224]
    again = TrainConfig.from_json(text)
    assert again == config
    moved = config.replace(output_dir="elsewhere", devices=4, verbose=2)
    assert config.differences(moved) == {}
    assert config.differences(moved, ignore=()).keys() == {
        "output_dir",
        "devices",
        "verbose",
    }
    assert config.differences(config.replace(epochs=21)) == {"epochs": (20, 21)}
    assert set(RESUME_IGNORED) <= {f.name for f in dataclasses.fields(TrainConfig)}


def test_make_config_accepts_config_dict_and_name():
    config = make_config("cifar", epochs=40)
    assert make_config(config) is config
    assert make_config(config, seed=3).seed == 3
    assert make_config({"preset": "cifar", "epochs": 40}) == config
    assert make_config(preset="cifar", epochs=40) == config
    assert list_presets() == ["shapes", "cifar", "stl10", "catdog", "imagenet"]


def test_config_type_error():
    with pytest.raises(
        TypeError, match=r"`config` must be a TrainConfig.*Received: config=3"
    ):
        make_config(3)


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"lr": 0.1}, r"Unknown training option 'lr'\..*learning_rate"),
        ({"epoch": 3}, r"Unknown training option 'epoch'\. Did you mean 'epochs'\?"),
        (
            {"head": "abm"},
            r"`head` must be one of .*Received: head='abm'\. Did you mean 'abn'\?",
        ),
        (
            {"optimizer": "rmsprop"},
            r"`optimizer` must be one of \('sgd', 'adam', 'adamw'\)",
        ),
        ({"epochs": 0}, r"`epochs` must be at least 1\. Received: epochs=0"),
        (
            {"batch_size": 2.5},
            r"`batch_size` must be an int\. Received: batch_size=2\.5",
        ),
        ({"learning_rate": 0}, r"`learning_rate` must be a number > 0\.0"),
        (
            {"mixup": -1},
            r"`mixup` must be >= 0 \(0 turns it off\)\. Received: mixup=-1",
        ),
        ({"cutmix": 1.5}, r"`cutmix` must be <= 1 \(it is Keras CutMix's `factor`"),
        ({"cutmix": "1"}, r"`cutmix` must be a float\. Received: cutmix='1'"),
        ({"image_size": "big"}, r"`image_size` must be a size 'S' or 'HxW'"),
        ({"image_size": 4}, r"`image_size` must be at least 8x8"),
        ({"devices": 0}, r"`devices` must be at least 1\. Received: devices=0"),
        ({"devices": "/gpu:0,/gpu:0"}, r"`devices` must not repeat a device"),
        ({"devices": 1.5}, r"`devices` must be a number of devices or a list"),
        ({"threads": "many"}, r"`threads` must be 'auto', 'tf' or 'INTER,INTRA'"),
        ({"mixed_precision": "float8"}, r"`mixed_precision` must be one of"),
        ({"stem_stride": 3}, r"`stem_stride` must be 1, 2 or None"),
        ({"randaugment": "yes"}, r"`randaugment` must be True or False"),
        (
            {"schedule": "step"},
            r"schedule='step' needs the epochs of its steps.*--lr-steps",
        ),
        (
            {"schedule": "step", "lr_steps": (2, 9), "epochs": 5, "warmup_epochs": 0},
            r"`lr_steps` must be increasing epochs between 1 and epochs - 1 = 4.*Received: lr_steps=2,9",
        ),
        (
            {"lr_steps": "3,4"},
            r"`lr_steps` applies to schedule='step' only.*schedule='cosine'.*Drop --lr-steps",
        ),
        ({"lr_steps": "a,b"}, r"`lr_steps` must be a list of epochs"),
        (
            {"schedule": "constant", "warmup_epochs": 1},
            r"`warmup_epochs` applies to schedule=.cosine. only.*--warmup-epochs 0",
        ),
        ({"warmup_epochs": 5}, r"`warmup_epochs` must be below epochs=5"),
        (
            {"optimizer": "adam", "momentum": 0.8},
            r"`momentum` applies to optimizer='sgd' only.*Drop --momentum",
        ),
        ({"preset": "mnist"}, r"Unknown preset 'mnist'\. `preset` must be one of"),
        ({"seed": -1}, r"`seed` must be at least 0\. Received: seed=-1"),
        ({"dataset": ""}, r"`dataset` must be a non-empty str"),
        ({"sync_batchnorm": "on"}, r"`sync_batchnorm` must be True, False or None"),
        (
            {"head": "baseline", "fin_depth": 2},
            r"apply to head='lficam' only: the 'baseline' head has no Feature "
            r"Importance Network.*Drop them, or use --head lficam\.",
        ),
        ({"fin_width": 0}, r"`fin_width` must be at least 1\. Received: fin_width=0"),
        ({"fin_relu": "all"}, r"`fin_relu` must be one of \('paired', 'every'\)"),
    ],
)
def test_bad_values_name_the_fix(overrides, message):
    with pytest.raises(ConfigError, match=message):
        make_config(**overrides)


def test_config_error_is_a_value_error():
    assert issubclass(ConfigError, ValueError)


def test_a_config_is_frozen():
    config = make_config()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.epochs = 3
    with pytest.raises(ConfigError, match=r"`epochs` must be at least 1"):
        config.replace(epochs=-1)


def test_one_job_per_module_and_no_import_circle():
    # The recipes and the rules need ConfigError, not the dataclass: they
    # import neither `config` nor each other's importer, so there is no circle.
    import ast
    import importlib
    import pathlib

    for name in ("presets", "config_rules", "errors"):
        module = importlib.import_module(f"lficam_tf.training.{name}")
        tree = ast.parse(pathlib.Path(module.__file__).read_text())
        imported = {
            node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
        }
        assert "lficam_tf.training.config" not in imported, name
    # The names are importable from where they always were.
    from lficam_tf.training import config, config_rules, errors, presets

    assert config.ConfigError is errors.ConfigError is presets.ConfigError
    assert config.parse_image_size is config_rules.parse_image_size
    assert ConfigError is errors.ConfigError


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan")])
@pytest.mark.parametrize(
    "name",
    [
        "learning_rate",
        "lr_decay",
        "warmup_epochs",
        "momentum",
        "weight_decay",
        "mixup",
        "cutmix",
    ],
)
def test_every_number_field_refuses_inf_and_nan(name, value):
    # `learning_rate=inf` passed `> 0` and trained a model of NaNs.
    with pytest.raises(ConfigError, match=rf"`{name}` must be a finite number"):
        make_config(**{name: value})


def test_making_a_config_imports_no_keras_or_tensorflow():
    # make_config lives beside TrainConfig, not in the trainer (TensorFlow).
    import subprocess
    import sys

    code = (
        "import sys; sys.argv[0] = 'train_tf.py'\n"  # no model code at import
        "from lficam_tf.training.config import make_config\n"
        "assert make_config('cifar', epochs=30).lr_steps == (15, 22)\n"
        "heavy = sorted({'keras', 'tensorflow'} & set(sys.modules))\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_one_owner_of_the_weight_decay_auto_rule():
    # config_rules owns "auto" (what it stands for, and that a new optimizer
    # brings its own rule); the dataclass only calls it.
    from lficam_tf.training import config, config_rules

    assert make_config(optimizer="sgd").weight_decay_mode == "coupled"
    assert make_config("cifar", optimizer="adamw").weight_decay_mode == "decoupled"
    assert (
        make_config("cifar").replace(optimizer="adam").weight_decay_mode == "decoupled"
    )
    assert config_rules.resolve_weight_decay_mode("decoupled", "sgd") == "decoupled"
    assert not hasattr(config, "_reresolve_weight_decay_mode")
