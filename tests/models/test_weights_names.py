"""A misspelt name of the shipped weights ('CIFAR10', 'cifar100') is named
with the close match and the shipped weights, not only as a missing file."""

import pytest

import lficam_tf


@pytest.mark.parametrize("weights", ["CIFAR10", "cifar100", "Cifar-10"])
def test_a_close_name_suggests_the_shipped_weights(weights):
    with pytest.raises(FileNotFoundError) as caught:
        lficam_tf.build_model("cifar_resnet20", num_classes=10, weights=weights)
    message = str(caught.value)
    assert f"Weights file not found: {weights!r}" in message
    assert "Did you mean 'cifar10'?" in message
    assert "'cifar10': CIFAR-10, cifar_resnet20" in message


def test_one_did_you_mean_for_the_package():
    # The rule lives in lficam_tf.checks.did_you_mean, the backbone
    # registry's (three names) included.
    import pathlib

    root = pathlib.Path(lficam_tf.__file__).parent
    users = sorted(
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if "difflib" in path.read_text()
    )
    assert users == ["checks.py"]
