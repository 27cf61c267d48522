"""The CIFAR-10 classifiers shipped in lficam_tf/weights/ (weights="cifar10").

Each file of the manifest loads by name and classifies the fixed slice of
the shared CIFAR-10 test folder (every 10th sorted file, 1,000 images) with
the accuracy the README states. Skipped until the study has shipped them
(experiments/ship_checkpoints.py) and where ../shared is absent.
"""

import hashlib
import pathlib

import pytest
import studylib

from lficam_tf import presets

MANIFEST = presets.read_manifest()
README = pathlib.Path(__file__).resolve().parents[2] / "README.md"

pytestmark = pytest.mark.skipif(
    not MANIFEST,
    reason="no shipped checkpoints yet: run the study (experiments/README.md)",
)


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_file_and_readme(name):
    entry = MANIFEST[name]
    path = presets.PRETRAINED_DIR / name
    assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"]
    assert name == presets.named_weights_file_name(
        "cifar10", entry["backbone"], entry["head"]
    )
    row = (
        f"| `{entry['head']}` | {100 * entry['test_accuracy']:.2f} % "
        f"| {100 * entry['slice']['accuracy']:.2f} % |"
    )
    assert row in README.read_text()


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_accuracy_on_the_fixed_slice(name, cifar10_test_folder):
    import lficam_tf

    entry = MANIFEST[name]
    model = lficam_tf.build_model(
        entry["backbone"], num_classes=10, head=entry["head"], weights="cifar10"
    )
    accuracy, count = studylib.folder_accuracy(
        model, cifar10_test_folder, every=entry["slice"]["every"]
    )
    assert count == entry["slice"]["images"] == 1000
    # The README's figure, to the image (2 decimals of a percentage).
    assert f"{100 * accuracy:.2f}" == f"{100 * entry['slice']['accuracy']:.2f}"
