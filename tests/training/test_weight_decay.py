"""The weight decay rule of a run: `weight_decay_mode` in the config, the
CLI and the presets; the optimizer `make_optimizer` builds from it; the
multi-worker loop's steps against PyTorch's formula; and one epoch of
CIFAR-10 with each rule."""

import json
import re

import keras
import numpy as np
import pytest
import tensorflow as tf
from sgd_reference import (
    STEPS,
    formula_fit,
    linear_model,
    linear_problem,
    linear_weights,
    step_schedule,
)

from lficam_tf.data import build_pipeline, load_data
from lficam_tf.models import build_model
from lficam_tf.optimizers import SGD
from lficam_tf.training import ConfigError, TrainConfig, make_config
from lficam_tf.training.cli import build_parser, main
from lficam_tf.training.multiworker import fit_multi_worker
from lficam_tf.training.strategy import select_strategy
from lficam_tf.training.trainer import compile_model, make_optimizer

PAPER_PRESETS = ["cifar", "stl10", "catdog", "imagenet"]


# --- configuration ---


@pytest.mark.parametrize("preset", PAPER_PRESETS)
def test_paper_presets_decay_coupled_with_the_papers_sgd(preset):
    config = make_config(preset)
    assert config.weight_decay_mode == "coupled"
    optimizer = make_optimizer(config, steps_per_epoch=10)
    assert type(optimizer) is SGD
    settings = optimizer.get_config()
    assert settings["weight_decay"] == 1e-4 and settings["momentum"] == 0.9
    assert settings["weight_decay_mode"] == "coupled" and not settings["nesterov"]


def test_decoupled_is_a_choice_and_adam_decouples():
    sgd = make_optimizer(make_config("cifar", weight_decay_mode="decoupled"), 10)
    assert type(sgd) is SGD and sgd.get_config()["weight_decay_mode"] == "decoupled"
    shapes = make_config("shapes")
    assert shapes.optimizer == "adamw" and shapes.weight_decay_mode == "decoupled"
    assert type(make_optimizer(shapes, 10)) is keras.optimizers.AdamW
    adam = make_optimizer(make_config("cifar", optimizer="adam"), 10)
    assert type(adam) is keras.optimizers.Adam and adam.weight_decay == 1e-4


def test_auto_follows_the_optimizer():
    assert TrainConfig(optimizer="sgd").weight_decay_mode == "coupled"
    assert TrainConfig(optimizer="adam").weight_decay_mode == "decoupled"
    # Changing the optimizer brings its own rule, unless one is given.
    assert make_config("cifar", optimizer="adamw").weight_decay_mode == "decoupled"
    assert make_config("shapes", optimizer="sgd").weight_decay_mode == "coupled"
    cifar = make_config("cifar")
    assert cifar.replace(optimizer="adam").weight_decay_mode == "decoupled"
    chosen = make_config("cifar", weight_decay_mode="decoupled")
    assert chosen.replace(seed=5, optimizer="sgd").weight_decay_mode == "decoupled"
    assert TrainConfig.from_json(chosen.to_json()) == chosen


def test_a_config_json_from_before_the_field_resumes_decoupled():
    # Every run written before `weight_decay_mode` existed decayed decoupled.
    values = make_config("cifar").to_dict()
    del values["weight_decay_mode"]
    config = TrainConfig.from_json(json.dumps(values))
    assert config.optimizer == "sgd" and config.weight_decay_mode == "decoupled"


@pytest.mark.parametrize(
    "overrides, message",
    [
        (
            {"weight_decay_mode": "l2"},
            (
                "`weight_decay_mode` must be one of ('auto', 'coupled', 'decoupled'). "
                "Received: weight_decay_mode='l2'."
            ),
        ),
        (
            {"optimizer": "adamw", "weight_decay_mode": "coupled"},
            (
                "`weight_decay_mode` must be 'decoupled' with optimizer='adamw': "
                "Keras' Adam and AdamW decay the weights outside the update (AdamW "
                "by definition), and coupled L2 is implemented for SGD only. "
                "Received: optimizer='adamw', weight_decay_mode='coupled'. Use "
                "--weight-decay-mode decoupled (or auto), or --optimizer sgd."
            ),
        ),
    ],
)
def test_bad_weight_decay_mode(overrides, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        make_config("cifar", **overrides)


def test_optimizer_argument_errors():
    with pytest.raises(
        ValueError,
        match=re.escape("`weight_decay_mode` must be one of ('coupled', 'decoupled')"),
    ):
        SGD(weight_decay_mode="l2")
    with pytest.raises(TypeError, match="`weight_decay_mode` must be a str"):
        SGD(weight_decay_mode=None)


# --- command line ---


@pytest.mark.parametrize(
    "argv, rule",
    [
        (["--preset", "cifar"], "coupled"),
        (["--preset", "imagenet"], "coupled"),
        ([], "decoupled"),  # shapes: AdamW
        (["--preset", "cifar", "--weight-decay-mode", "decoupled"], "decoupled"),
        (["--preset", "cifar", "--optimizer", "adamw"], "decoupled"),
    ],
)
def test_print_config_shows_the_rule(argv, rule, capsys):
    assert main(["--print-config", *argv]) == 0
    assert json.loads(capsys.readouterr().out)["weight_decay_mode"] == rule


def test_help_and_list_presets_say_which_rule_each_preset_uses(capsys):
    text = " ".join(build_parser().format_help().split())
    assert "--weight-decay-mode {auto,coupled,decoupled}" in text
    assert (
        "as the authors' PyTorch SGD; the cifar, stl10, catdog and imagenet "
        "presets), 'decoupled'" in text
    )
    assert "AdamW's; the shapes preset" in text and "(default: auto)" in text
    assert main(["--list-presets"]) == 0
    lines = capsys.readouterr().out.splitlines()
    for line in lines:
        rule = "decoupled" if line.startswith("shapes:") else "coupled"
        assert f"weight_decay_mode={rule}" in line, line


def test_cli_rejects_coupled_adamw(capsys, tmp_path):
    argv = ["--optimizer", "adamw", "--weight-decay-mode", "coupled"]
    assert main([*argv, "--output-dir", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "`weight_decay_mode` must be 'decoupled' with optimizer='adamw'" in err
    assert not (tmp_path / "run").exists()
    with pytest.raises(SystemExit):
        main(["--weight-decay-mode", "l2"])
    assert "invalid choice: 'l2'" in capsys.readouterr().err


# --- the multi-worker loop ---


@pytest.mark.parametrize("mode", ["coupled", "decoupled"])
def test_multi_worker_loop_matches_pytorch_formula(mode):
    # The custom loop of MultiWorkerMirroredStrategy, run here on one device
    # through a strategy: `strategy.run(model.train_step)`, the optimizer's
    # update under `distribution.extended.update`.
    strategy = select_strategy(1)
    x, labels, weights = linear_problem()
    schedule = step_schedule()
    with strategy.scope():
        model = linear_model(weights)
        losses = {
            "logits": keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        }
        model.compile(
            optimizer=SGD(
                schedule, momentum=0.9, weight_decay=0.05, weight_decay_mode=mode
            ),
            loss=losses,
        )
    data = tf.data.Dataset.from_tensor_slices((x, labels)).batch(8)
    # One epoch of 50 steps: the loop repeats the 2 batches.
    fit_multi_worker(model, strategy, data, data, 1, STEPS, [], losses, verbose=0)
    assert int(model.optimizer.iterations.numpy()) == STEPS
    expected = formula_fit(
        x,
        labels,
        weights,
        schedule,
        momentum=0.9,
        weight_decay=0.05,
        decoupled=mode == "decoupled",
    )
    for got, want in zip(linear_weights(model), expected):
        np.testing.assert_allclose(got, want, rtol=2e-6, atol=1e-6)


# --- one epoch of CIFAR-10 with each rule ---


@pytest.mark.slow
def test_one_cifar10_epoch_per_rule(cifar10_test_folder, tmp_path):
    # The `cifar` preset at a reduced size, trained by the parts `train`
    # uses (config, data, model, `compile_model`, `fit`), without its
    # evaluation and export.
    root = tmp_path / "cifar10"
    root.mkdir()
    (root / "train").symlink_to(cifar10_test_folder)
    (root / "test").symlink_to(cifar10_test_folder)
    weights, losses = {}, {}
    for mode in ("coupled", "decoupled"):
        config = make_config(
            "cifar",
            dataset=str(root),
            backbone="cifar_resnet20",
            image_size=16,
            num_train=256,
            num_test=32,
            epochs=1,
            batch_size=32,
            weight_decay_mode=mode,
            # Parallel augmentation is not bit-reproducible (build_pipeline):
            # without it, the two runs differ by the rule alone.
            augmentation="none",
        )
        keras.utils.clear_session()  # the same layer names, hence the same weights
        keras.utils.set_random_seed(config.seed)  # as `train` does, first
        bundle = load_data(
            config.dataset,
            image_size=config.image_size,
            seed=config.seed,
            num_train=config.num_train,
            num_test=config.num_test,
        )
        train_data = build_pipeline(
            bundle.train,
            config.batch_size,
            training=True,
            image_size=config.image_size,
            num_classes=bundle.num_classes,
            seed=config.seed,
        )
        model = build_model(
            config.backbone,
            num_classes=bundle.num_classes,
            input_shape=(*config.image_size, 3),
            head=config.head,
        )
        compile_model(model, config, steps_per_epoch=256 // 32)
        model.run_eagerly = True  # 8 steps: faster than tracing them
        assert model.optimizer.get_config()["weight_decay_mode"] == mode
        history = model.fit(train_data, epochs=1, verbose=0)
        losses[mode] = history.history["loss"][0]
        weights[mode] = [v.numpy() for v in model.trainable_variables]
    assert np.isfinite(list(losses.values())).all()
    assert all(np.isfinite(w).all() for ws in weights.values() for w in ws)
    # The same data, initialisation and steps (two runs with one rule end
    # bit-identical): only the rule differs. 8 steps at lr 0.1 amplify the
    # decay's difference to ~5% of the weights.
    difference = sum(
        float(np.sum((a - b) ** 2))
        for a, b in zip(weights["coupled"], weights["decoupled"])
    )
    norm = sum(float(np.sum(a**2)) for a in weights["coupled"])
    assert (difference / norm) ** 0.5 > 1e-4, losses
