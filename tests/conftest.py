"""Test settings shared by the whole suite.

- Quiet TensorFlow logs and use one inter-op / two intra-op threads, the
  fastest setting measured on the 2-core CI machine.
- `shared_data` / `cifar10_test_folder`: the real images of `../shared/data`,
  skipped cleanly where that folder is absent (a user's fresh checkout).
"""

import os
import pathlib
import tarfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"

try:
    tf.config.threading.set_inter_op_parallelism_threads(1)
    tf.config.threading.set_intra_op_parallelism_threads(2)
except RuntimeError:  # Already initialised by an earlier import.
    pass


@pytest.fixture(autouse=True)
def _fresh_keras_state():
    """Each test starts with a float32 policy and a cleared Keras session."""
    keras.config.set_dtype_policy("float32")
    keras.utils.clear_session()
    yield
    keras.config.set_dtype_policy("float32")


@pytest.fixture(scope="session")
def shared_data():
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{SHARED_DATA} is absent (only CI and dev machines have it)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def cifar10_test_folder(shared_data, tmp_path_factory):
    """The shared CIFAR-10 test split unpacked: `<dir>/test/<class>/*.jpg`."""
    archive = shared_data / "cifar10_jpeg_test.tar.gz"
    if not archive.is_file():
        pytest.skip(f"{archive} is absent")
    root = tmp_path_factory.mktemp("cifar10")
    with tarfile.open(archive) as tar:
        tar.extractall(root, filter="data")
    return root / "test"
