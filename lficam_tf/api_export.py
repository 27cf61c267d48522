"""One decorator that names a public symbol and registers it for Keras saving.

Every layer and model class of the package is decorated with
`@lficam_export("lficam_tf.layers.FeatureImportanceNetwork")`: the path says
where the symbol is public, and the class is registered with
`keras.saving.register_keras_serializable(package="lficam_tf")`, so `.keras`
files reload without `custom_objects`.
"""

import sys
import types

PACKAGE = "lficam_tf"

#: Every exported symbol, by its public path. Tests walk this to round-trip
#: every layer through its config and through a `.keras` file.
EXPORTED = {}


def lficam_export(path):
    """Export `path` (e.g. `"lficam_tf.layers.FeatureImportanceNetwork"`).

    Classes with a `get_config` are registered as Keras serializable under the
    package name `lficam_tf` and the last component of `path`.
    """
    if not path.startswith(PACKAGE + "."):
        raise ValueError(
            f"`path` must start with '{PACKAGE}.'. Received: path={path!r}"
        )
    name = path.rsplit(".", 1)[-1]

    def decorator(symbol):
        if isinstance(symbol, type) and hasattr(symbol, "get_config"):
            import keras  # Here: modules without Keras objects stay light.

            symbol = keras.saving.register_keras_serializable(
                package=PACKAGE, name=name
            )(symbol)
        if path in EXPORTED and EXPORTED[path] is not symbol:
            raise ValueError(f"Two symbols exported as {path!r}.")
        EXPORTED[path] = symbol
        return symbol

    return decorator


class _CallableModule(types.ModuleType):
    """A subpackage that can also be called, like its main function."""

    def __call__(self, *args, **kwargs):
        return self.__call_target__(*args, **kwargs)


def make_module_callable(module_name, function):
    """Make `lficam_tf.<sub>(...)` call `function`, keeping the subpackage.

    `lficam_tf.explain(model, images)` and `lficam_tf.export(model, dir)` read
    like functions, while `lficam_tf.explain.GradCAM` stays reachable: binding
    the function to the package attribute instead would hide the subpackage.
    """
    module = sys.modules[module_name]
    module.__call_target__ = function
    module.__class__ = _CallableModule
