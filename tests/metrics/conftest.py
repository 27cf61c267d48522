"""Fake classifiers whose scores can be worked out by hand."""

import numpy as np
import pytest


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
