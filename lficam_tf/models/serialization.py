"""Config helpers for models that hold other models (backbones, stages)."""

import keras


def serialize_parts(model, names):
    """`{name: serialized model.<name>}`, with None kept as None."""
    return {
        name: None
        if getattr(model, name) is None
        else keras.saving.serialize_keras_object(getattr(model, name))
        for name in names
    }


def deserialize_parts(config, names):
    """A copy of `config` with the named parts deserialized."""
    config = dict(config)
    for name in names:
        if config.get(name) is not None:
            config[name] = keras.saving.deserialize_keras_object(config[name])
    return config
