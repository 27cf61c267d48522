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


#: The test files that take longest (`--durations` of the full suite on the
#: 2-core CI machine, 2026-12-06), longest first. They run first, so that
#: `-n 2 --dist loadfile` does not end with one worker running a long file
#: while the other waits: the suite's wall time is about its total over two.
LONGEST_FIRST = (
    "tests/experiments/test_experiments.py",
    "tests/training/test_train_new_backbones.py",
    "tests/training/test_distributed.py",
    "tests/training/test_resume.py",
    "tests/training/test_compare_cams_notebook.py",
    "tests/models/test_training_ready.py",
    "tests/training/test_datasets.py",
    "tests/training/test_notebook.py",
    "tests/training/test_train_e2e.py",
    "tests/export/test_outside_keras.py",
    "tests/export/test_bad_requests.py",
    "tests/backbones/test_applications_resnets.py",
    "tests/training/test_load_run.py",
)


def pytest_collection_modifyitems(config, items):
    """Run the files of `LONGEST_FIRST` first, in its order; the rest after,
    in collection order."""
    rank = {path: i for i, path in enumerate(LONGEST_FIRST)}

    def key(item):
        path = pathlib.Path(str(item.path)).resolve().relative_to(REPO).as_posix()
        return rank.get(path, len(rank))

    items.sort(key=key)  # stable: the order within each file is kept
