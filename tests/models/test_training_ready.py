"""Models train with plain model.fit and survive a .keras round trip."""

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

import lficam_tf


def learnable_problem(n, seed):
    """3 classes: a bright 6x6 square in the left, centre or right third."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    images = rng.uniform(0, 60, (n, 16, 16, 3)).astype(np.float32)
    for image, label in zip(images, labels):
        top = rng.integers(0, 11)
        left = [0, 5, 10][label]
        image[top : top + 6, left : left + 6] = rng.uniform(180, 255, 3)
    return images, labels.astype(np.int32)


@pytest.mark.slow
@pytest.mark.parametrize("head", ["lficam", "abn", "baseline"])
def test_tiny_model_learns_a_learnable_problem(head):
    keras.utils.set_random_seed(0)
    x, y = learnable_problem(384, seed=0)
    x_test, y_test = learnable_problem(192, seed=1)
    model = lficam_tf.build_model(
        "cifar_resnet20", 3, input_shape=(16, 16, 3), head=head
    )
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    history = model.fit(x, y, epochs=8, batch_size=32, verbose=0)
    losses = history.history["loss"]
    # Under half the loss of uniform predictions (ln 3 per loss term). Not
    # relative to the first epoch's mean, which depends on the initial
    # logits' scale more than on learning.
    assert losses[-1] < 0.5 * len(model.LOSS_OUTPUTS) * np.log(3)
    assert losses[-1] < losses[0]
    if head == "abn":  # the two-term loss: perception + attention branch
        assert "attention_logits_loss" in history.history
        np.testing.assert_allclose(
            losses[-1],
            history.history["logits_loss"][-1]
            + history.history["attention_logits_loss"][-1],
            rtol=1e-3,
        )
    results = model.evaluate(x_test, y_test, verbose=0, return_dict=True)
    accuracy = results.get("logits_accuracy", results.get("accuracy"))
    assert accuracy > 0.8  # chance is 1/3


@pytest.mark.slow
def test_keras_round_trip_in_a_fresh_process_gives_identical_outputs(tmp_path):
    x, y = learnable_problem(64, seed=2)
    np.save(tmp_path / "x.npy", x[:8])
    expected = {}
    for head in ("lficam", "abn", "baseline"):
        model = lficam_tf.build_model(
            "cifar_resnet20", 3, input_shape=(16, 16, 3), head=head
        )
        model.compile()
        model.fit(x, y, epochs=1, batch_size=32, verbose=0)  # non-trivial BN statistics
        model.save(tmp_path / f"{head}.keras")
        expected[head] = (
            type(model).__name__,
            {k: keras.ops.convert_to_numpy(v) for k, v in model(x[:8]).items()},
        )
    code = textwrap.dedent(
        f"""
        import json, keras, numpy as np
        import lficam_tf  # registers the classes; no custom_objects needed
        x = np.load({str(tmp_path / "x.npy")!r})
        result = {{}}
        for head in ("lficam", "abn", "baseline"):
            model = keras.saving.load_model({str(tmp_path)!r} + f"/{{head}}.keras")
            result[head] = {{
                "class": type(model).__name__,
                "compiled": bool(model.compiled),
                "outputs": {{k: np.asarray(v).tolist() for k, v in model(x).items()}},
            }}
        print(json.dumps(result))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    for head, (class_name, outputs) in expected.items():
        assert loaded[head]["class"] == class_name and loaded[head]["compiled"]
        assert sorted(loaded[head]["outputs"]) == sorted(outputs)
        for name, value in outputs.items():
            got = np.asarray(loaded[head]["outputs"][name], np.float32)
            np.testing.assert_array_equal(got, value, err_msg=f"{head}/{name}")
