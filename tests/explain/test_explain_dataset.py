"""explain() takes a tf.data.Dataset of image batches (as model.fit does),
and says what it needs when the dataset yields something else."""

import numpy as np
import pytest
import tensorflow as tf

import lficam_tf
from lficam_tf.explain import explain


@pytest.fixture(scope="module")
def model():
    return lficam_tf.build_model("cifar_resnet20", num_classes=3)


IMAGES = np.random.default_rng(0).uniform(0, 255, (5, 32, 32, 3)).astype("float32")


@pytest.mark.parametrize(
    "dataset",
    [
        tf.data.Dataset.from_tensor_slices(IMAGES).batch(2),
        tf.data.Dataset.from_tensor_slices((IMAGES, np.arange(5))).batch(2),
        tf.data.Dataset.from_tensor_slices({"images": IMAGES}).batch(3),
    ],
)
def test_a_dataset_of_batches_is_explained_like_its_images(model, dataset):
    expected = explain(model, IMAGES)
    result = explain(model, dataset)
    np.testing.assert_allclose(result.maps, expected.maps, atol=1e-5)
    np.testing.assert_allclose(result.probabilities, expected.probabilities, atol=1e-5)


def test_an_unbatched_dataset_says_to_batch_it(model):
    with pytest.raises(
        ValueError,
        match=r"must yield batches of RGB images .*Received: an element of shape "
        r"\(32, 32, 3\)\. Batch it \(dataset\.batch\(32\)\)",
    ):
        explain(model, tf.data.Dataset.from_tensor_slices(IMAGES))
    with pytest.raises(ValueError, match=r"Received: an empty tf\.data\.Dataset"):
        explain(model, tf.data.Dataset.from_tensor_slices(IMAGES).take(0).batch(2))
