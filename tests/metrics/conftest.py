"""Fake classifiers whose scores can be worked out by hand.

The metric tests build no Keras model or layer, so they override the suite's
autouse `_fresh_keras_state` fixture with one that keeps the float32 policy
but skips `keras.utils.clear_session()`: that call was 97 % of these tests'
time (62 s of 64 s for 99 tests on the shared machine).
"""

import keras
import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _fresh_keras_state():
    keras.config.set_dtype_policy("float32")
    yield


def brightness(images):
    """Mean pixel value of each image over all pixels and channels, in [0, 1]."""
    return np.asarray(images, dtype=np.float64).mean(axis=(1, 2, 3)) / 255.0


@pytest.fixture
def linear_predict_fn():
    """p(class 0) = mean brightness m, p(class 1) = 1 - m."""

    def predict_fn(images):
        m = brightness(images)
        return np.stack([m, 1.0 - m], axis=-1)

    return predict_fn


@pytest.fixture
def softmax_predict_fn():
    """softmax([ln(3) * m, 0]): p(class 0) is 1/2 on black, 3/4 on white."""

    def predict_fn(images):
        logits = np.stack(
            [np.log(3.0) * brightness(images), np.zeros(len(images))], axis=-1
        )
        exp = np.exp(logits - logits.max(axis=-1, keepdims=True))
        return exp / exp.sum(axis=-1, keepdims=True)

    return predict_fn


class Recorder:
    """A predict_fn wrapper that records every batch it is called with."""

    def __init__(self, predict_fn):
        self.predict_fn = predict_fn
        self.batches = []

    def __call__(self, images):
        self.batches.append(np.array(images))
        return self.predict_fn(images)


@pytest.fixture
def recorder():
    return Recorder
