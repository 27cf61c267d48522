"""The model of a run: built, its optimizer, compiled, for a `TrainConfig`.

- `build_for_config`: `lficam_tf.build_model` with the config's backbone,
  head and FIN options, BatchNormalization synchronised across replicas
  when there are several (or as `sync_batchnorm` says);
- `make_optimizer`: SGD, Adam or AdamW with the learning-rate schedule;
- `compile_model`: the optimizer, a cross-entropy on every output the model
  trains, and accuracy on the logits;
- `dtype_policy`: Keras' global dtype policy for mixed precision, restored
  after the run.
"""

import contextlib

import keras

from lficam_tf.models import outputs as model_outputs
from lficam_tf.models.build import build_model
from lficam_tf.optimizers import SGD


@contextlib.contextmanager
def dtype_policy(mixed_precision):
    """Keras' global dtype policy `mixed_<mixed_precision>` inside the block.

    Args:
        mixed_precision: `"float16"`, `"bfloat16"` or None (unchanged).
    """
    previous = keras.config.dtype_policy()
    if mixed_precision:
        keras.config.set_dtype_policy(f"mixed_{mixed_precision}")
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def build_for_config(config, num_classes, image_size, replicas=1):
    """The classifier `config` describes, for images of `image_size`.

    Call it under the strategy's scope. Batch statistics are computed over
    all replicas when `config.sync_batchnorm` says so (default: with more
    than one replica).

    Args:
        config: a `TrainConfig`.
        num_classes: int. The dataset's classes.
        image_size: `(height, width)` of the model's input.
        replicas: int. The strategy's replicas in sync. Defaults to `1`.
    """
    model = build_model(
        config.backbone,
        num_classes=num_classes,
        input_shape=(image_size[0], image_size[1], 3),
        head=config.head,
        weights=config.weights,
        fin_depth=config.fin_depth,
        fin_relu=config.fin_relu,
        fin_width=config.fin_width,
        stem_stride=config.stem_stride,
    )
    sync_bn = (
        config.sync_batchnorm if config.sync_batchnorm is not None else replicas > 1
    )
    if sync_bn:
        synchronize_batchnorm(model)
    return model


def synchronize_batchnorm(model):
    """Compute batch statistics over all replicas in every BN layer."""
    for layer in model._flatten_layers(include_self=False, recursive=True):
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.synchronized = True


def make_optimizer(config, steps_per_epoch):
    """The optimizer and learning-rate schedule of `config`.

    SGD is `lficam_tf.optimizers.SGD`, PyTorch's update with the weight
    decay rule of `config.weight_decay_mode` (coupled L2 for the paper's
    presets); Adam and AdamW are Keras', with decoupled decay.
    """
    lr = config.learning_rate
    total = config.epochs * steps_per_epoch
    warmup = round(config.warmup_epochs * steps_per_epoch)
    if config.schedule == "cosine":
        if warmup:
            rate = keras.optimizers.schedules.CosineDecay(
                0.0, max(1, total - warmup), warmup_target=lr, warmup_steps=warmup
            )
        else:
            rate = keras.optimizers.schedules.CosineDecay(lr, max(1, total))
    elif config.schedule == "step":
        # PyTorch's MultiStepLR (the authors'): the first step of epoch m
        # (0-based update m * steps) already uses the decayed rate. Keras
        # keeps values[i] while step <= boundaries[i], hence the - 1.
        rate = keras.optimizers.schedules.PiecewiseConstantDecay(
            [epoch * steps_per_epoch - 1 for epoch in config.lr_steps],
            [lr * config.lr_decay**i for i in range(len(config.lr_steps) + 1)],
        )
    else:
        rate = lr
    decay = config.weight_decay or None
    if config.optimizer == "sgd":
        momentum = 0.9 if config.momentum is None else config.momentum
        return SGD(
            rate,
            momentum=momentum,
            weight_decay=decay,
            weight_decay_mode=config.weight_decay_mode,
        )
    # Adam and AdamW decay decoupled (the config accepts no other mode).
    if config.optimizer == "adam":
        return keras.optimizers.Adam(rate, weight_decay=decay)
    return keras.optimizers.AdamW(rate, weight_decay=config.weight_decay)


def compile_model(model, config, steps_per_epoch):
    """Compile with `config`'s optimizer, the cross-entropy on every output
    the model trains (`LOSS_OUTPUTS`), and accuracy on the logits.

    Returns:
        The dict of losses, `{output name: keras loss}`.
    """
    if config.uses_soft_labels:
        loss_class = keras.losses.CategoricalCrossentropy
        accuracy = keras.metrics.CategoricalAccuracy("accuracy")
    else:
        loss_class = keras.losses.SparseCategoricalCrossentropy
        accuracy = keras.metrics.SparseCategoricalAccuracy("accuracy")
    losses = {name: loss_class(from_logits=True) for name in model.LOSS_OUTPUTS}
    model.compile(
        optimizer=make_optimizer(config, steps_per_epoch),
        loss=losses,
        metrics={model_outputs.LOGITS: [accuracy]},
        jit_compile=config.jit_compile,
    )
    return losses
