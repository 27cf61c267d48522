"""One decorator that names a public symbol and registers it for Keras saving.

Every layer and model class of the package is decorated with
`@lficam_export("lficam_tf.layers.FeatureImportanceNetwork")`: the path says
where the symbol is public, and the class is registered with
`keras.saving.register_keras_serializable(package="lficam_tf")`, so `.keras`
files reload without `custom_objects`.
"""

import importlib
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
        target = self.__call_target__
        if target is None:
            raise TypeError(f"module {self.__name__!r} is not callable")
        if isinstance(target, str):  # "attribute": loaded on the first call
            target = self.__call_target__ = getattr(self, target)
        return target(*args, **kwargs)


def make_module_callable(module_name, function):
    """Make `lficam_tf.<sub>(...)` call `function`, keeping the subpackage.

    `lficam_tf.explain(model, images)` and `lficam_tf.export(model, dir)` read
    like functions, while `lficam_tf.explain.GradCAM` stays reachable: binding
    the function to the package attribute instead would hide the subpackage.
    `function` may be the name of the subpackage's attribute, looked up on
    the first call (for subpackages that load their modules lazily).
    """
    module = sys.modules[module_name]
    module.__call_target__ = function
    module.__class__ = _CallableModule


class _LazyPackage(_CallableModule):
    """A subpackage whose public names load their modules on first use.

    `__lazy__` maps each name to its module. A name that is also a module's
    name (the function `evaluate` of `lficam_tf.evaluation.evaluate`) stays
    the function: the import system's binding of the loaded submodule to
    the package attribute is skipped (the module is in `sys.modules`), as
    an eager `from .evaluate import evaluate` would have rebound it.
    """

    def __getattr__(self, name):
        lazy = self.__dict__.get("__lazy__", {})
        if name not in lazy:
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")
        module = importlib.import_module(f"{self.__name__}.{lazy[name]}")
        return getattr(module, name)

    def __setattr__(self, name, value):
        if isinstance(value, types.ModuleType) and name in self.__dict__.get(
            "__lazy__", {}
        ):
            return
        super().__setattr__(name, value)

    def __dir__(self):
        return sorted(set(self.__dict__) | set(self.__dict__.get("__all__", ())))


def make_lazy_package(module_name, lazy, call_target=None):
    """Load the public names of subpackage `module_name` on first use.

    So that its command line (`lficam_tf.explain.cli`) starts without
    TensorFlow. `lazy` maps each name to the module that defines it;
    `call_target` names the function the subpackage is callable as.
    """
    module = sys.modules[module_name]
    module.__lazy__ = dict(lazy)
    module.__call_target__ = call_target
    module.__class__ = _LazyPackage
