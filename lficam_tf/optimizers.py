"""`SGD`: PyTorch's SGD in Keras, weight decay as the LFI-CAM authors apply it.

The authors train with `torch.optim.SGD(model.parameters(), lr=0.1,
momentum=0.9, weight_decay=1e-4)`: the decay is an L2 term added to the
gradient of every parameter (batch-norm scales and offsets and biases
included) before the momentum buffer. Keras' own `weight_decay` is decoupled
(`w -= lr * wd * w`, outside the momentum): with momentum 0.9 the same number
regularises about ten times less (`lr * wd / (1 - 0.9)` per step in the
steady state against `lr * wd`). This module is `keras.ops` only, like the
models, so it runs on every Keras backend.
"""

import keras
from keras import ops

from lficam_tf.api_export import lficam_export

#: The rules `SGD` applies weight decay by.
WEIGHT_DECAY_MODES = ("coupled", "decoupled")


@lficam_export("lficam_tf.optimizers.SGD")
class SGD(keras.optimizers.SGD):
    """SGD with momentum exactly as PyTorch's, with coupled (L2) weight decay.

    The update of a variable `w` with gradient `g`, learning rate `lr` (the
    schedule's value at this step), momentum `mu` and weight decay `wd`,
    as `torch.optim.SGD` does it (dampening 0):

    ```python
    d = g + wd * w            # weight_decay_mode="coupled" (the default)
    buf = mu * buf + d        # the momentum buffer, starting at zero
    d = d + mu * buf if nesterov else buf
    w = w - lr * d
    ```

    With `weight_decay_mode="decoupled"`, `d = g` and `w -= lr * wd * w`
    happens first, outside the momentum, as Keras' optimizers (and AdamW)
    apply `weight_decay`.

    The momentum buffer holds the sum of past directions, not of past steps:
    Keras' `keras.optimizers.SGD` keeps `velocity = mu * velocity - lr * g`,
    which takes the same steps at a constant learning rate but, after a step
    of a learning-rate schedule, goes on for a while with the old rate
    folded into the velocity. This class takes PyTorch's steps under any
    schedule, so the paper's x0.1 steps at epochs 150 and 225 act as in the
    authors' runs.

    The decay applies to every variable the optimizer updates, except those
    named in `exclude_from_weight_decay()`; a variable whose gradient is
    None is skipped entirely (as PyTorch skips parameters without a
    gradient), one with a zero gradient is still decayed. Gradients are
    clipped (`clipnorm`, ...) before the decay is added, and under mixed
    precision `keras.optimizers.LossScaleOptimizer` unscales them before
    this update, so the decay never sees the loss scale.

    Args:
        learning_rate: float, a
            `keras.optimizers.schedules.LearningRateSchedule`, or a callable
            returning the rate. Defaults to `0.01`.
        momentum: float in [0, 1]. Defaults to `0.0`.
        nesterov: bool. PyTorch's Nesterov momentum. Defaults to `False`.
        weight_decay: float or None. The decay factor `wd`; None or 0 is
            off. Defaults to `None`.
        weight_decay_mode: `"coupled"` (L2 added to the gradient before the
            momentum, PyTorch's SGD, the paper's) or `"decoupled"`
            (`w -= lr * wd * w` outside the momentum, Keras' and AdamW's).
            Defaults to `"coupled"`.
        **kwargs: the other arguments of `keras.optimizers.Optimizer`
            (`clipnorm`, `use_ema`, `name`, ...).

    Example:

    >>> import numpy as np, keras
    >>> from lficam_tf.optimizers import SGD
    >>> w = keras.Variable([1.0, -2.0])
    >>> optimizer = SGD(learning_rate=0.1, momentum=0.9, weight_decay=0.5)
    >>> for _ in range(2):  # zero gradients: only the decay acts
    ...     _ = optimizer.apply_gradients([(np.zeros(2, "float32"), w)])
    >>> # w1 = w - 0.1 * 0.5 w; then buf = 0.9 * 0.5 w + 0.5 w1, w2 = w1 - 0.1 buf
    >>> [round(float(v), 4) for v in w.numpy()]
    [0.8575, -1.715]

    Reference:
    - [Lee et al., LFI-CAM, ICCV 2021](https://arxiv.org/abs/2105.00937)
    - [PyTorch's `torch.optim.SGD`](
      https://pytorch.org/docs/stable/generated/torch.optim.SGD.html)
    - [Loshchilov and Hutter, Decoupled Weight Decay Regularization, 2019](
      https://arxiv.org/abs/1711.05101)
    """

    def __init__(
        self,
        learning_rate=0.01,
        momentum=0.0,
        nesterov=False,
        weight_decay=None,
        weight_decay_mode="coupled",
        **kwargs,
    ):
        if not isinstance(weight_decay_mode, str):
            raise TypeError(
                f"`weight_decay_mode` must be a str, one of {WEIGHT_DECAY_MODES}. "
                f"Received: weight_decay_mode={weight_decay_mode!r} of type "
                f"{type(weight_decay_mode).__name__}"
            )
        if weight_decay_mode not in WEIGHT_DECAY_MODES:
            raise ValueError(
                f"`weight_decay_mode` must be one of {WEIGHT_DECAY_MODES}: "
                "'coupled' adds weight_decay * w to the gradient (PyTorch's SGD), "
                "'decoupled' subtracts learning_rate * weight_decay * w outside "
                f"the momentum. Received: weight_decay_mode={weight_decay_mode!r}"
            )
        super().__init__(
            learning_rate=learning_rate,
            momentum=momentum,
            nesterov=nesterov,
            weight_decay=weight_decay,
            **kwargs,
        )
        self.weight_decay_mode = weight_decay_mode

    def _apply_weight_decay(self, variables):
        # Keras calls this before every update: the decoupled decay. The
        # coupled decay is part of `update_step`.
        if self.weight_decay_mode == "decoupled":
            super()._apply_weight_decay(variables)

    def update_step(self, gradient, variable, learning_rate):
        """One variable's update; see the class docstring."""
        dtype = variable.dtype
        learning_rate = ops.cast(learning_rate, dtype)
        direction = ops.cast(gradient, dtype)
        if (
            self.weight_decay
            and self.weight_decay_mode == "coupled"
            and self._use_weight_decay(variable)
        ):
            direction = ops.add(
                direction, ops.multiply(ops.cast(self.weight_decay, dtype), variable)
            )
        if self.momentum != 0:
            momentum = ops.cast(self.momentum, dtype)
            buffer = self.momentums[self._get_variable_index(variable)]
            self.assign(buffer, ops.add(ops.multiply(buffer, momentum), direction))
            if self.nesterov:
                direction = ops.add(direction, ops.multiply(buffer, momentum))
            else:
                direction = buffer
        self.assign_sub(variable, ops.multiply(direction, learning_rate))

    def get_config(self):
        config = super().get_config()
        config["weight_decay_mode"] = self.weight_decay_mode
        return config
