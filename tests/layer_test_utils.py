"""`run_layer_test`: the checks every layer of the package must pass.

Config round trip, `.keras` round trip inside a model, symbolic and eager
calls that agree, one `fit` step, and a mixed-precision call, in the spirit of
keras-hub's `TestCase.run_layer_test`.
"""

import keras
import numpy as np


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def run_layer_test(make_layer, inputs, tmp_path, expected_output_shapes):
    """Run the shared layer checks.

    Args:
        make_layer: `() -> layer`, a fresh layer each call.
        inputs: list of numpy arrays, the call's positional inputs.
        tmp_path: a folder for the `.keras` file.
        expected_output_shapes: list of output shapes (batch included).
    """
    layer = make_layer()

    # Config round trip: from_config(get_config()) gives the same config.
    config = layer.get_config()
    clone = layer.__class__.from_config(config)
    assert clone.get_config() == config

    # Eager call and output shapes.
    eager = [keras.ops.convert_to_numpy(o) for o in _as_list(layer(*inputs))]
    assert [o.shape for o in eager] == [tuple(s) for s in expected_output_shapes]
    assert all(np.all(np.isfinite(o)) for o in eager)

    # Symbolic call inside a Functional model agrees with the eager call.
    symbolic_inputs = [keras.Input(x.shape[1:], batch_size=None) for x in inputs]
    outputs = _as_list(layer(*symbolic_inputs))
    for symbolic, expected in zip(outputs, expected_output_shapes):
        assert tuple(symbolic.shape[1:]) == tuple(expected[1:])
    model = keras.Model(symbolic_inputs, outputs)
    predicted = _as_list(model.predict(inputs, verbose=0))
    for a, b in zip(predicted, eager):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)

    # .keras round trip: same class, same outputs, without custom_objects.
    path = str(tmp_path / "layer_model.keras")
    model.save(path)
    restored = keras.saving.load_model(path)
    assert type(restored.layers[-1]) is type(layer) or any(
        type(lay) is type(layer) for lay in restored.layers
    )
    for a, b in zip(_as_list(restored.predict(inputs, verbose=0)), predicted):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)

    # One training step runs and keeps everything finite.
    if layer.trainable_weights:
        model.compile(optimizer="sgd", loss=["mse"] * len(outputs))
        targets = [np.zeros_like(p) for p in predicted]
        history = model.fit(
            inputs, targets, epochs=1, verbose=0, batch_size=len(inputs[0])
        )
        assert np.isfinite(history.history["loss"][0])
        for weight in layer.weights:
            assert np.all(np.isfinite(keras.ops.convert_to_numpy(weight)))

    # Mixed precision: the layer computes in float16 and stays finite.
    keras.config.set_dtype_policy("mixed_float16")
    try:
        mixed = _as_list(make_layer()(*inputs))
    finally:
        keras.config.set_dtype_policy("float32")
    for output in mixed:
        assert keras.backend.standardize_dtype(output.dtype) == "float16"
        output = keras.ops.convert_to_numpy(output).astype("float32")
        assert np.all(np.isfinite(output))
    return eager
