"""The FIN options' defaults have one owner, `lficam_tf.checks.FIN_DEFAULTS`.

Every place that shows a default (a signature, a `TrainConfig` field and so
`train_tf.py --help`, a docstring, the README) says the owner's value: a
default changed there and nowhere else fails here.
"""

import dataclasses
import inspect
import json
import pathlib
import re

import pytest

from lficam_tf.checks import FIN_DEFAULTS

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def _places():
    """`(object, {argument: key of FIN_DEFAULTS})` of every API with FIN options."""
    import lficam_tf
    from lficam_tf.layers import FeatureImportanceNetwork

    options = {name: name for name in FIN_DEFAULTS}
    return [
        (lficam_tf.build_model, options),
        # The classifier's `fin_width` is the width itself (None: K -> K),
        # which `build_model` resolves from "auto": no default to share.
        (
            lficam_tf.LFICAMClassifier,
            {"fin_depth": "fin_depth", "fin_relu": "fin_relu"},
        ),
        (FeatureImportanceNetwork, {"depth": "fin_depth", "relu": "fin_relu"}),
    ]


def _argument_entry(obj, name):
    """The text of `name`'s entry under `Args:` in `obj`'s docstring."""
    args = inspect.getdoc(obj).split("\nArgs:\n", 1)[1]
    match = re.search(rf"^    {name}: (.*?)(?=^    \S|^\S|\Z)", args, re.M | re.S)
    assert match, f"{obj.__name__}'s docstring has no `{name}` argument"
    return " ".join(match.group(1).split())


def test_signatures_take_the_owners_defaults():
    for obj, arguments in _places():
        parameters = inspect.signature(obj).parameters
        for argument, key in arguments.items():
            assert parameters[argument].default == FIN_DEFAULTS[key], (obj, argument)


def test_docstrings_state_the_owners_defaults():
    for obj, arguments in _places():
        for argument, key in arguments.items():
            stated = f"Defaults to `{json.dumps(FIN_DEFAULTS[key])}`"
            assert stated in _argument_entry(obj, argument), (obj, argument)


def test_train_config_and_its_flags_take_the_owners_defaults():
    from lficam_tf.training import TrainConfig
    from lficam_tf.training.cli import build_parser

    fields = {field.name: field for field in dataclasses.fields(TrainConfig)}
    config = TrainConfig()
    helps = {action.dest: action.help for action in build_parser()._actions}
    for name, value in FIN_DEFAULTS.items():
        assert fields[name].default == value
        assert getattr(config, name) == value
        assert helps[name].endswith(f"(default: {value})"), helps[name]


@pytest.mark.parametrize("name", sorted(FIN_DEFAULTS))
def test_readme_states_the_owners_defaults(name):
    assert f"`{name}={json.dumps(FIN_DEFAULTS[name])}`" in README.read_text()
