"""`lficam_tf.presets`: the shipped classifiers, their table and their files.

Loading them by name is tested in tests/models/test_named_weights.py, a
misspelt name in tests/models/test_weights_names.py, the real files in
tests/experiments/test_shipped_checkpoints.py.
"""

import fnmatch
import inspect
import pathlib
import re
import subprocess
import sys

import pytest

from lficam_tf import presets
from lficam_tf.choices import HEADS

REPO = pathlib.Path(__file__).resolve().parents[1]


def test_default_options_are_build_models_defaults():
    # A preset's model is built with build_model's defaults: the table of
    # what must stay default holds exactly those.
    import lficam_tf

    parameters = inspect.signature(lficam_tf.build_model).parameters
    assert {
        name: parameters[name].default for name in presets.DEFAULT_OPTIONS
    } == presets.DEFAULT_OPTIONS


@pytest.mark.parametrize("name", sorted(presets.NAMED_WEIGHTS))
def test_every_preset_describes_a_model_build_model_makes(name):
    import lficam_tf

    spec = presets.NAMED_WEIGHTS[name]
    assert set(spec) == {
        "description",
        "dataset",
        "backbones",
        "heads",
        "num_classes",
        "input_shape",
        "class_names",
        "command",
    }
    assert spec["description"] and set(spec["heads"]) <= set(HEADS)
    assert len(spec["class_names"]) == spec["num_classes"]
    for backbone in spec["backbones"]:
        # The backbone's own input size, so that input_shape=None is allowed.
        assert lficam_tf.get_backbone_spec(backbone).input_shape == spec["input_shape"]


def test_shipped_files_are_package_data():
    # setup.py ships every file the presets name, and the manifest.
    setup = (REPO / "setup.py").read_text()
    patterns = re.search(r'package_data=\{"lficam_tf": \[(.*?)\]\}', setup).group(1)
    patterns = re.findall(r'"([^"]+)"', patterns)
    folder = presets.PRETRAINED_DIR.relative_to(REPO / "lficam_tf")
    names = [
        presets.named_weights_file_name(name, backbone, head)
        for name, spec in presets.NAMED_WEIGHTS.items()
        for backbone in spec["backbones"]
        for head in spec["heads"]
    ]
    for name in [*names, presets.MANIFEST_NAME]:
        path = str(folder / name)
        assert any(fnmatch.fnmatch(path, p) for p in patterns), path
    assert sorted(presets.read_manifest()) in ([], sorted(names))


def test_presets_import_no_keras_or_tensorflow():
    # `lficam-explain cifar10:...` reads the table before loading Keras.
    code = (
        "import sys; sys.argv[0] = 'lficam-explain'\n"  # no model code at import
        "from lficam_tf.presets import NAMED_WEIGHTS\n"
        "heavy = sorted({'keras', 'tensorflow'} & set(sys.modules))\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
