"""`load_run` gives a finished run back as `train` returned it, and
`build_run_model` builds the model of a run's configuration."""

import numpy as np
import pytest

import lficam_tf
from lficam_tf.api_export import EXPORTED
from lficam_tf.training import (
    TrainResult,
    build_run_model,
    load_run,
    make_config,
    train,
)

IMAGES = np.random.default_rng(0).uniform(0, 255, (3, 32, 32, 3)).astype("float32")


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A real run of one short epoch (the cheapest `train` call)."""
    out = tmp_path_factory.mktemp("load_run") / "run"
    return train(
        "shapes",
        epochs=1,
        num_train=32,
        num_test=16,
        batch_size=16,
        image_size=32,
        attention_images=2,
        output_dir=str(out),
        verbose=0,
    )


def _logits(model):
    return np.asarray(model(IMAGES, training=False)["logits"])


@pytest.mark.slow
def test_load_run_gives_back_what_train_returned(finished):
    run = load_run(finished.output_dir)
    assert isinstance(run, TrainResult)
    assert run.output_dir == finished.output_dir
    assert run.config == finished.config
    assert run.metrics == finished.metrics
    # Every epoch of training_log.csv (one here), as History.history has it.
    for key, values in finished.history.items():
        assert run.history[key] == pytest.approx(values, rel=1e-6), key
    assert "epoch" not in run.history
    np.testing.assert_allclose(_logits(run.model), _logits(finished.model), atol=1e-5)
    # A str works as well as a Path.
    assert load_run(str(finished.output_dir)).metrics == finished.metrics


@pytest.mark.slow
def test_load_run_without_the_model(finished):
    run = load_run(finished.output_dir, load_model=False)
    assert run.model is None
    assert run.config == finished.config and run.metrics == finished.metrics


@pytest.mark.slow
def test_build_run_model_is_the_model_train_built(finished):
    model = build_run_model(finished.config, 6, (32, 32))
    assert model.count_params() == finished.model.count_params()
    model.set_weights(finished.model.get_weights())
    np.testing.assert_allclose(_logits(model), _logits(finished.model), atol=1e-5)
    # The configuration's own input size by default; a dict or preset name
    # is made into a configuration as `train` makes it.
    model = build_run_model(
        {"backbone": "cifar_resnet20", "head": "baseline", "image_size": 16}, 3
    )
    assert tuple(model.inputs[0].shape) == (None, 16, 16, 3)
    assert model(IMAGES[:, :16, :16])["logits"].shape == (3, 3)


def test_build_run_model_errors():
    with pytest.raises(
        ValueError, match=r"`image_size` is needed: .*config.image_size=None"
    ):
        build_run_model(make_config("shapes"), 6)
    with pytest.raises(TypeError, match="`config` must be a TrainConfig"):
        build_run_model(3, 6, (32, 32))


def test_load_run_errors(tmp_path):
    with pytest.raises(TypeError, match=r"`run_dir` must be a path .* of type int"):
        load_run(3)
    with pytest.raises(FileNotFoundError, match="which does not exist"):
        load_run(tmp_path / "absent")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="which has no config.json"):
        load_run(empty)
    unfinished = tmp_path / "unfinished"
    unfinished.mkdir()
    (unfinished / "config.json").write_text(make_config("shapes").to_json())
    with pytest.raises(ValueError, match=r"an unfinished run .*`train\(resume="):
        load_run(unfinished)
    (unfinished / "metrics.json").write_text("{}")
    with pytest.raises(FileNotFoundError, match="has no model.keras"):
        load_run(unfinished)
    assert load_run(unfinished, load_model=False).metrics == {}


def test_the_names_are_public():
    for name in ("load_run", "build_run_model"):
        assert name in lficam_tf.training.__all__
        assert EXPORTED[f"lficam_tf.training.{name}"] is getattr(
            lficam_tf.training, name
        )
