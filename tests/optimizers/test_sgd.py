"""`lficam_tf.optimizers.SGD` takes PyTorch's SGD steps (numpy formula in
`sgd_reference`), coupled or decoupled, under `apply_gradients`, `model.fit`,
loss scaling and the ABN head's two losses, and survives a `.keras` file."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from sgd_reference import (
    STEPS,
    TorchSGD,
    formula_fit,
    linear_model,
    linear_problem,
    linear_weights,
    step_schedule,
)

import lficam_tf
from lficam_tf.optimizers import SGD

#: float32 round-off over 50 steps (the formula and the optimizer differ in
#: the order of a few float32 operations).
TOLERANCE = {"rtol": 2e-6, "atol": 2e-7}


def fixed_gradients(weights, seed=1):
    """50 steps of gradients; steps 10-19 and every 7th bias gradient are zero."""
    rng = np.random.default_rng(seed)
    steps = []
    for step in range(STEPS):
        grads = [rng.normal(size=w.shape).astype(np.float32) for w in weights]
        if 10 <= step < 20:
            grads = [np.zeros_like(g) for g in grads]
        if step % 7 == 0:
            grads[1] = np.zeros_like(grads[1])
        steps.append(grads)
    return steps


def run_keras(optimizer, weights, gradient_steps, scale=None):
    variables = [keras.Variable(w) for w in weights]
    optimizer.build(variables)
    for grads in gradient_steps:
        factor = 1.0 if scale is None else float(scale())
        optimizer.apply_gradients(
            [(g * np.float32(factor), v) for g, v in zip(grads, variables)]
        )
    return [v.numpy() for v in variables]


def run_formula(weights, gradient_steps, schedule, **options):
    reference = TorchSGD(weights, **options)
    for step, grads in enumerate(gradient_steps):
        reference.step(grads, float(schedule(step)))
    return reference.weights


def assert_close(got, expected, **tolerance):
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a, b, **(tolerance or TOLERANCE))


def assert_far(got, expected):
    """The tolerance separates the rules: another rule lands far outside it."""
    assert any(
        not np.allclose(a, b, rtol=100 * TOLERANCE["rtol"], atol=0)
        for a, b in zip(got, expected)
    )


@pytest.mark.parametrize(
    "mode, momentum, nesterov",
    [
        ("coupled", 0.9, False),
        ("coupled", 0.9, True),
        ("coupled", 0.0, False),
        ("decoupled", 0.9, False),
    ],
)
def test_apply_gradients_matches_pytorch_formula(mode, momentum, nesterov):
    _, _, weights = linear_problem()
    weights = weights[:2]
    gradient_steps = fixed_gradients(weights)
    schedule = step_schedule()
    optimizer = SGD(
        schedule,
        momentum=momentum,
        nesterov=nesterov,
        weight_decay=0.05,
        weight_decay_mode=mode,
    )
    got = run_keras(optimizer, weights, gradient_steps)
    options = {"momentum": momentum, "weight_decay": 0.05, "nesterov": nesterov}
    decoupled = mode == "decoupled"
    assert_close(
        got,
        run_formula(weights, gradient_steps, schedule, **options, decoupled=decoupled),
    )
    other = run_formula(
        weights, gradient_steps, schedule, **options, decoupled=not decoupled
    )
    if momentum:
        assert_far(got, other)
    else:  # Without momentum the two rules are one: w - lr * (g + wd * w).
        assert_close(got, other)
    assert int(optimizer.iterations.numpy()) == STEPS


def test_zero_gradients_only_decay_coupled_ten_times_more():
    # The arithmetic: at momentum 0.9 and a constant rate, coupled
    # decay shrinks by lr * wd / (1 - 0.9) per step once the buffer is full,
    # decoupled by lr * wd.
    shrink = {}
    for mode in ("coupled", "decoupled"):
        optimizer = SGD(0.1, momentum=0.9, weight_decay=1e-4, weight_decay_mode=mode)
        w = keras.Variable(np.ones(3, np.float32))
        values = []
        for _ in range(200):
            optimizer.apply_gradients([(np.zeros(3, np.float32), w)])
            values.append(float(w.numpy()[0]))
        # The mean shrinkage per step over the last 100 steps.
        shrink[mode] = np.log(values[99] / values[199]) / 100
    np.testing.assert_allclose(shrink["decoupled"], 0.1 * 1e-4, rtol=1e-2)
    np.testing.assert_allclose(shrink["coupled"], 0.1 * 1e-4 / (1 - 0.9), rtol=1e-2)


def test_keras_sgd_takes_other_steps_after_a_rate_step():
    # Keras' velocity (mu * v - lr * g) keeps the old rate for a while after
    # a schedule step; PyTorch's buffer (mu * b + g) does not.
    _, _, weights = linear_problem()
    weights = weights[:2]
    gradient_steps = fixed_gradients(weights)
    schedule = step_schedule()
    expected = run_formula(
        weights, gradient_steps, schedule, momentum=0.9, weight_decay=0.0
    )
    ours = run_keras(SGD(schedule, momentum=0.9), weights, gradient_steps)
    theirs = run_keras(
        keras.optimizers.SGD(schedule, momentum=0.9), weights, gradient_steps
    )
    assert_close(ours, expected)
    assert_far(theirs, expected)


def test_exclude_from_weight_decay_is_honoured():
    _, _, weights = linear_problem()
    weights = weights[:2]
    gradient_steps = fixed_gradients(weights)
    schedule = step_schedule()
    optimizer = SGD(schedule, momentum=0.9, weight_decay=0.05)
    optimizer.exclude_from_weight_decay(var_names=["bias"])
    variables = [keras.Variable(w, name=n) for w, n in zip(weights, ["kernel", "bias"])]
    for grads in gradient_steps:
        optimizer.apply_gradients(zip(grads, variables))
    decayed = run_formula(
        weights, gradient_steps, schedule, momentum=0.9, weight_decay=0.05
    )
    undecayed = run_formula(
        weights, gradient_steps, schedule, momentum=0.9, weight_decay=0.0
    )
    assert_close([variables[0].numpy()], decayed[:1])
    assert_close([variables[1].numpy()], undecayed[1:])


def test_loss_scale_optimizer_adds_the_decay_to_unscaled_gradients():
    _, _, weights = linear_problem()
    weights = weights[:2]
    gradient_steps = fixed_gradients(weights)
    schedule = step_schedule()
    inner = SGD(schedule, momentum=0.9, weight_decay=0.05)
    optimizer = keras.optimizers.LossScaleOptimizer(inner)
    # Gradients of the scaled loss, as `train_step` hands them over.
    got = run_keras(
        optimizer, weights, gradient_steps, scale=lambda: optimizer.dynamic_scale
    )
    assert float(optimizer.dynamic_scale) == 2.0**15
    expected = run_formula(
        weights, gradient_steps, schedule, momentum=0.9, weight_decay=0.05
    )
    assert_close(got, expected)


def fit_linear_model(optimizer, weights, x, labels, **compile_args):
    model = linear_model(weights)
    model.compile(
        optimizer=optimizer,
        loss={"logits": keras.losses.SparseCategoricalCrossentropy(from_logits=True)},
        **compile_args,
    )
    fit_50_steps(model, x, labels)
    return model


def fit_50_steps(model, x, labels):
    """One epoch of the 16 examples 25 times over in batches of 8, in order."""
    repeats = STEPS // 2
    model.fit(
        np.tile(x, (repeats, 1)),
        np.tile(labels, repeats),
        batch_size=8,
        shuffle=False,
        verbose=0,
    )


@pytest.mark.parametrize("mode", ["coupled", "decoupled"])
def test_fit_matches_pytorch_formula(mode):
    x, labels, weights = linear_problem()
    schedule = step_schedule()
    optimizer = SGD(schedule, momentum=0.9, weight_decay=0.05, weight_decay_mode=mode)
    model = fit_linear_model(optimizer, weights, x, labels, jit_compile=False)
    got = linear_weights(model)
    options = {"momentum": 0.9, "weight_decay": 0.05}
    decoupled = mode == "decoupled"
    # The gradients are computed on both sides (numpy and TensorFlow).
    tolerance = {"rtol": 2e-6, "atol": 1e-6}
    expected = formula_fit(x, labels, weights, schedule, decoupled=decoupled, **options)
    assert_close(got, expected, **tolerance)
    # The idle layer's zero gradients: moved by the decay alone.
    assert not np.allclose(got[2], weights[2], rtol=1e-3)
    other = formula_fit(
        x, labels, weights, schedule, decoupled=not decoupled, **options
    )
    assert any(not np.allclose(a, b, **tolerance) for a, b in zip(got, other))


def test_fit_under_mixed_float16_applies_the_decay_once_unscaled():
    keras.config.set_dtype_policy("mixed_float16")
    x, labels, weights = linear_problem()
    schedule = step_schedule()
    model = linear_model(weights, idle_only=True)
    model.compile(
        optimizer=SGD(schedule, momentum=0.9, weight_decay=0.05),
        loss={"logits": keras.losses.SparseCategoricalCrossentropy(from_logits=True)},
        jit_compile=False,
    )
    # Keras wraps the optimizer for loss scaling; our SGD does the update.
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    assert isinstance(model.optimizer.inner_optimizer, SGD)
    fit_50_steps(model, x, labels)
    # Zero gradients (the outputs are multiplied by 0): the decay alone acts,
    # on the float32 variables, as in float32.
    expected = formula_fit(
        x, labels, weights, schedule, idle_only=True, momentum=0.9, weight_decay=0.05
    )
    got = linear_weights(model)
    assert_close(got, expected)
    assert not np.allclose(got[0], weights[0], rtol=1e-2)


@pytest.mark.parametrize("mode", ["coupled", "decoupled"])
def test_keras_file_round_trip_keeps_the_rule_and_the_buffers(mode, tmp_path):
    x, labels, weights = linear_problem()
    optimizer = SGD(
        step_schedule(), momentum=0.9, weight_decay=0.05, weight_decay_mode=mode
    )
    model = fit_linear_model(optimizer, weights, x, labels)
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    assert type(loaded.optimizer) is SGD
    assert loaded.optimizer.get_config() == optimizer.get_config()
    assert loaded.optimizer.get_config()["weight_decay_mode"] == mode
    for a, b in zip(loaded.optimizer.variables, optimizer.variables):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    # Both go on identically (the schedule, the buffers, the rule).
    model.fit(x[:8], labels[:8], batch_size=8, verbose=0)
    loaded.fit(x[:8], labels[:8], batch_size=8, verbose=0)
    assert_close(loaded.get_weights(), model.get_weights())


def test_config_round_trip():
    optimizer = SGD(0.1, momentum=0.9, weight_decay=1e-4, weight_decay_mode="decoupled")
    config = keras.saving.serialize_keras_object(optimizer)
    assert config["registered_name"] == "lficam_tf>SGD"
    restored = keras.saving.deserialize_keras_object(config)
    assert type(restored) is SGD and restored.get_config() == optimizer.get_config()
    assert lficam_tf.optimizers.SGD is SGD


@pytest.mark.parametrize("head", ["lficam", "abn", "baseline"])
def test_compile_default_is_the_papers_coupled_sgd(head):
    model = lficam_tf.build_model(
        "cifar_resnet20", 3, input_shape=(16, 16, 3), head=head
    )
    model.compile()
    optimizer = model.optimizer
    assert type(optimizer) is SGD
    config = optimizer.get_config()
    assert config["learning_rate"] == np.float32(0.1)
    assert config["momentum"] == 0.9 and not config["nesterov"]
    assert config["weight_decay"] == 1e-4 and config["weight_decay_mode"] == "coupled"


@pytest.mark.slow
def test_abn_two_losses_get_the_same_rule():
    # Two steps of the ABN head (perception + attention-branch losses):
    # PyTorch's update of the summed loss's gradients, with the decay added
    # once to every trainable variable (BN scales and offsets included).
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, (4, 16, 16, 3)).astype(np.float32)
    y = np.array([0, 1, 2, 1], np.int32)
    model = lficam_tf.build_model(
        "cifar_resnet20", 3, input_shape=(16, 16, 3), head="abn"
    )
    model.compile(optimizer=SGD(0.1, momentum=0.9, weight_decay=0.05), run_eagerly=True)
    assert sorted(model.LOSS_OUTPUTS) == ["attention_logits", "logits"]
    variables = model.trainable_variables
    assert any("gamma" in v.path for v in variables)

    def gradients():
        with tf.GradientTape() as tape:
            loss = model.compute_loss(x, y, model(x, training=True), training=True)
        return [g.numpy() for g in tape.gradient(loss, variables)]

    start = [v.numpy() for v in variables]
    reference = TorchSGD(start, momentum=0.9, weight_decay=0.05)
    other = TorchSGD(start, momentum=0.9, weight_decay=0.05, decoupled=True)
    for _ in range(2):
        grads = gradients()
        expected = list(reference.step(grads, 0.1))
        decoupled = list(other.step(grads, 0.1))
        model.train_on_batch(x, y)
        got = [v.numpy() for v in variables]
        assert_close(got, expected, rtol=1e-4, atol=1e-5)
        # The next gradients are taken at the model's weights.
        reference.weights, other.weights = list(got), list(got)
    # On the second step the rules differ by lr * momentum * wd * w.
    assert any(
        not np.allclose(a, b, rtol=1e-4, atol=1e-5) for a, b in zip(got, decoupled)
    )
