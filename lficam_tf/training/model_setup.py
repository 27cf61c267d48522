"""The model of a run: built, its optimizer, compiled, for a `TrainConfig`.

- `build_for_config`: `lficam_tf.build_model` with the config's backbone,
  head and FIN options, BatchNormalization synchronised across replicas
  when there are several (or as `sync_batchnorm` says); `build_run_model`,
  public: the same on one replica, for a run's configuration;
- `make_optimizer`: SGD, Adam or AdamW with the learning-rate schedule;
- `compile_model`: the optimizer, a cross-entropy on every output the model
  trains, and accuracy on the logits, XLA-compiled where `use_xla` says;
- `dtype_policy`: Keras' global dtype policy for mixed precision, restored
  after the run.
"""

import contextlib
import functools

import keras
import tensorflow as tf

from lficam_tf.api_export import lficam_export
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


@lficam_export("lficam_tf.training.build_run_model")
def build_run_model(config, num_classes, image_size=None):
    """The classifier a run of `config` trains, built as `train` builds it.

    The backbone, head and FIN options of the configuration (and its
    `weights`, e.g. ImageNet's), on one replica, not compiled. Load a run's
    final weights into it where only they are kept (a `.weights.h5` file);
    a finished run's folder gives the whole model back (`load_run`).

    Args:
        config: a `TrainConfig`, a preset name or a dict of its fields,
            made into a configuration as `train` makes it (`make_config`).
        num_classes: int. The classes of the run's dataset.
        image_size: int (a square) or `(height, width)` of the model's
            input, or None for `config.image_size`. A run of a dataset's own size has None
            there: its metrics.json gives the size (`image_size`).
            Defaults to `None`.

    Returns:
        A `keras.Model` whose call returns a dict with `logits` of shape
        `(batch_size, num_classes)` (and the head's attention map), on
        images of shape `(batch_size, height, width, 3)`, RGB 0..255.

    Raises:
        TypeError: `config` is not a configuration.
        ValueError: no input size (neither `image_size` nor
            `config.image_size`), or a configuration or `num_classes` that
            `build_model` refuses.

    Example:

    >>> from lficam_tf.training import build_run_model, make_config
    >>> config = make_config("cifar", backbone="cifar_resnet20", head="lficam")
    >>> model = build_run_model(config, num_classes=10, image_size=(32, 32))
    >>> tuple(model.inputs[0].shape)
    (None, 32, 32, 3)
    """
    from lficam_tf.checks import check_image_size
    from lficam_tf.training.config import make_config

    config = make_config(config)
    size = check_image_size(image_size, optional=True) or config.image_size
    if size is None:
        raise ValueError(
            "`image_size` is needed: the configuration has none (its dataset's "
            "images gave the size when it trained). Received: image_size=None "
            "with config.image_size=None. Pass the run's input size, e.g. "
            "image_size=(64, 64) (its metrics.json has it)."
        )
    return build_for_config(config, num_classes, size)


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


#: Backbones whose training step XLA made faster on a CPU-only machine
#: without AVX-512 (docs/PERFORMANCE.md, "XLA"): LFI-CAM cifar_resnet20
#: +20% at 32x32 and +20-22% at 64x64, its baseline head +7-12%. XLA's CPU
#: convolutions are not oneDNN's: cifar_resnet110 trains 3-4x slower with
#: it, so a backbone enters this list only once measured. The default job's
#: cifar_resnet8 with a stride-2 stem gained ~5%, within the noise and less
#: than the compilation costs: not listed.
XLA_FASTER_ON_CPU = ("cifar_resnet20",)

#: Fewest training steps for which the automatic setting XLA-compiles on a
#: CPU: compiling a step function takes ~10 s here (the training step of
#: a shapes run: 11 s, and the evaluation step its own), which a 20% gain
#: on ~1 s steps repays after ~100 steps.
XLA_MIN_STEPS = 200


@functools.cache
def cpu_has_avx512():
    """Whether this machine's CPU has AVX-512 (Linux: /proc/cpuinfo).

    On such a CPU (the Intel host of 2026-12-05, AVX-512 and AMX) oneDNN's
    convolutions, which XLA does not use, are the faster ones: XLA made
    LFI-CAM cifar_resnet20 train 0.5-0.65x as fast there, against 1.2x on
    the AVX2-only host of 2026-11-29. False where it cannot be read.
    """
    try:
        with open("/proc/cpuinfo") as file:
            for line in file:
                if line.startswith("flags"):
                    return "avx512f" in line.split()
    except OSError:
        pass
    return False


def use_xla(config, replicas, steps, gpus=None, avx512=None):
    """`model.compile`'s `jit_compile` for `config`: True, False or "auto".

    `config.jit_compile` True or False is used as given. Automatic (None):
    with GPUs, Keras' own choice ("auto": XLA when the model supports it,
    off under a distribution strategy); on a CPU-only machine, XLA for a
    backbone of `XLA_FASTER_ON_CPU` trained on one replica for at least
    `XLA_MIN_STEPS` steps on a CPU without AVX-512, else off (as Keras
    decides on CPUs).

    Args:
        config: the `TrainConfig`.
        replicas: int. Replicas the model trains on.
        steps: int. Training steps of the whole run.
        gpus: int or None. GPUs of the machine (None: ask TensorFlow).
        avx512: bool or None. Whether the CPU has AVX-512 (None: ask
            `cpu_has_avx512`).
    """
    if config.jit_compile is not None:
        return config.jit_compile
    if gpus is None:
        gpus = len(tf.config.list_physical_devices("GPU"))
    if gpus:
        return "auto"
    if avx512 is None:
        avx512 = cpu_has_avx512()
    return (
        config.backbone in XLA_FASTER_ON_CPU
        and replicas == 1
        and steps >= XLA_MIN_STEPS
        and not avx512
    )


def compile_model(model, config, steps_per_epoch, replicas=1):
    """Compile with `config`'s optimizer, the cross-entropy on every output
    the model trains (`LOSS_OUTPUTS`), accuracy on the logits, and XLA as
    `use_xla` decides.

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
        jit_compile=use_xla(config, replicas, steps_per_epoch * config.epochs),
    )
    return losses
