"""Post-hoc class activation maps for any Keras classifier.

**TensorFlow-specific module**: gradients come from `tf.GradientTape`, and
Score-CAM's masked passes and Ablation-CAM's ablated passes run in a
`tf.while_loop` inside a `tf.function`, so that they stay on the device.
The rest of `lficam_tf.explain` is backend-neutral.

Every method here works on the activations A (batch_size, h, w, K) of one
layer and, for the gradient methods, on g = d y^c / d A, the gradient of
the class score y^c before the softmax. It makes a low-resolution map

    L^c = ReLU(sum_k W_k),    W = weighted_activations(A, g)  (h, w, K),

then up-samples L bilinearly to the input and min-max normalises it per
image. Two override points, so that each method is a few lines:

- `channel_weights` (most methods): W_k = alpha_k A_k, one weight per
  channel, the usual "CAM" form L = ReLU(sum_k alpha_k A_k).
- `weighted_activations` (methods with a weight per position): W directly.

With `eigen_smooth=True` (and always for Eigen-CAM and EigenGrad-CAM) the
sum over channels is replaced by the first principal component of W: the
(h*w, K) matrix, its columns centred, projected on its first right singular
vector. An SVD's sign is arbitrary; we choose it so that the projection
correlates positively with the channel mean of W (for Eigen-CAM, the mean
activation), so that the map points at what the layer responds to, not at
its complement.

- Grad-CAM: alpha_k = mean_ij g_ijk (Selvaraju et al., arXiv 1610.02391,
  eq. 1-2).
- HiResCAM: L = ReLU(sum_k g_ijk A_ijk), the gradient applied per position
  instead of averaged (Draelos & Carin, arXiv 2011.08891); for a layer
  followed only by global average pooling and a dense layer it equals
  Grad-CAM.
- Grad-CAM element-wise: L = ReLU(sum_k ReLU(g_ijk A_ijk))
  (pytorch-grad-cam's `GradCAMElementWise`).
- Grad-CAM++: alpha_k = sum_ij a_ij^k ReLU(g_ijk) with
  a_ij^k = g^2 / (2 g^2 + sum_ab A^k_ab g^3), the closed form for an
  exponential of the score (Chattopadhyay et al., arXiv 1710.11063, eq. 19;
  the exponential's factor cancels in the normalisation); a_ij^k = 0 where
  g = 0.
- XGrad-CAM: alpha_k = sum_ij g_ijk A_ijk / (sum_ij A_ijk + 1e-7) (Fu et
  al., BMVC 2020, arXiv 2008.02312).
- LayerCAM: L = ReLU(sum_k ReLU(g_ijk) A_ijk) (Jiang et al., IEEE TIP
  2021). With `layer=[...]`, LayerCAM's fusion of several layers: each
  layer's map up-sampled and min-max normalised, then their element-wise
  maximum. The only method with a fusion.
- Eigen-CAM: the first principal component of A, no gradients, so the same
  map for every class (Muhammad & Yeasin, IJCNN 2020, arXiv 2008.00299).
- EigenGrad-CAM: the first principal component of g * A
  (pytorch-grad-cam's `EigenGradCAM`), class-specific.
- Score-CAM: alpha_k = softmax(f(X o H^k))_c, the class probability of the
  input X multiplied by channel k's up-sampled, min-max normalised
  activation H^k (Wang et al., arXiv 1910.01279, as in the authors' code
  haofanwang/Score-CAM: no baseline subtracted, no softmax over channels,
  constant channels get weight 0). X is the input after the model's own
  preprocessing, as the authors multiply the normalised image tensor: a
  masked-out pixel becomes the preprocessing's zero, the dataset mean for a
  mean / std normalisation. `masking="images"` multiplies the RGB images
  instead (masked-out pixels black). With `top_n`, only the N channels of
  highest spatial variance are scored, the others get weight 0: Faster
  Score-CAM (https://github.com/tabayashi0117/Score-CAM, which ranks the
  channels by the standard deviation of their activation map).
- Ablation-CAM: alpha_k = (y^c - y^c_k) / y^c, y^c_k the class score with
  channel k of A set to 0 (Desai & Ramaswamy, WACV 2020; weight 0 where
  y^c = 0). Only the layers after the explained one are rerun
  (`lficam_tf.graph.model_after`), `chunk_size` ablated maps at a time.

`aug_smooth=True` (every method) is pytorch-grad-cam's test-time
augmentation: the mean of the maps of the input and its horizontal flip,
each multiplied by 0.9, 1.0 and 1.1 (six passes; flipped maps flipped back),
all explaining the class of the unaltered input, min-max normalised again.

Token models: `reshape_transform="vit"` explains a layer whose output is
tokens (batch_size, 1 + h*w, C), a vision transformer's: the class token is
dropped and the rest reshaped to (h, w, C) (`vit_reshape_transform`), for
the activations and the gradients alike. A callable (tensor -> (batch_size,
h, w, C)) does any other layout.

Which layer: the last layer with a 4-D output (`lficam_tf.graph.
last_feature_layer`), nested models included. On the package's LFI-CAM
models this is `"residual_attention"`, i.e. F' = (1 + A) * F, the features
that the classifier actually pools, so that Grad-CAM's gradient is that of
the classifier alone (GAP + dense: Grad-CAM at F' equals CAM) and the maps
have the resolution of LFI-CAM's own map. Pass `layer="<backbone>/<name>"`
to explain the raw features F instead; their gradient then also flows through
the Feature Importance Network. On ABN models it is the perception branch's
last stage; on baselines, the backbone's last feature map.
"""

import math

import tensorflow as tf
from keras import ops

from lficam_tf import graph
from lficam_tf.api_export import lficam_export
from lficam_tf.checks import check_int
from lficam_tf.choices import MASKINGS, METHOD_TITLES, RESHAPE_TRANSFORMS
from lficam_tf.explain.classifier_outputs import scores_model
from lficam_tf.explain.maps import minmax_normalize, to_input_resolution
from lficam_tf.explain.progress import GraphProgress

#: `aug_smooth`: the factors each image (and its horizontal flip) is
#: multiplied by, pytorch-grad-cam's `tta.Multiply(factors=[0.9, 1, 1.1])`.
AUG_SMOOTH_FACTORS = (0.9, 1.0, 1.1)


@lficam_export("lficam_tf.explain.vit_reshape_transform")
def vit_reshape_transform(tokens, num_prefix_tokens=1):
    """Vision-transformer tokens to a feature map: drop the class token.

    Args:
        tokens: float tensor `(batch_size, num_prefix_tokens + h * w,
            channels)`, the output of a transformer block, with a static
            number of tokens and a square grid (h == w).
        num_prefix_tokens: int. Leading tokens that are not image patches
            (the class token; 2 with a distillation token). Defaults to `1`.

    Returns:
        float tensor `(batch_size, h, w, channels)`, the patch tokens in
        row-major order.

    Example:

    >>> import numpy as np
    >>> tokens = np.arange(2 * 5 * 3, dtype="float32").reshape(2, 5, 3)
    >>> grid = vit_reshape_transform(tokens)
    >>> tuple(grid.shape), np.asarray(grid)[0, 0, 1].tolist()
    ((2, 2, 2, 3), [6.0, 7.0, 8.0])

    Reference:
        - [Dosovitskiy et al., ViT, ICLR 2021](https://arxiv.org/abs/2010.11929)
    """
    num_tokens = tokens.shape[1]
    if len(tokens.shape) != 3 or num_tokens is None:
        raise ValueError(
            "`tokens` must have shape (batch_size, tokens, channels) with a "
            f"fixed number of tokens. Received: shape {tuple(tokens.shape)}"
        )
    patches = num_tokens - num_prefix_tokens
    side = math.isqrt(max(patches, 0))
    if patches <= 0 or side * side != patches:
        raise ValueError(
            f"reshape_transform='vit' needs 1 class token + a square grid of "
            f"patch tokens: {num_tokens} tokens minus {num_prefix_tokens} is "
            f"not a square. Received: token shape {tuple(tokens.shape)}. Pass "
            "`reshape_transform` a callable that reshapes your layout to "
            "(batch_size, h, w, channels)."
        )
    return ops.reshape(tokens[:, num_prefix_tokens:], (-1, side, side, tokens.shape[2]))


def first_principal_component(weighted):
    """Eigen-CAM's projection: `(batch_size, h, w, K)` -> `(batch_size, h, w)`.

    Per image, the (h*w, K) matrix with its columns centred, projected on
    its first right singular vector, signed so that the projection
    correlates positively with the channel mean of `weighted`.
    """
    weighted = tf.cast(weighted, tf.float32)
    shape = tf.shape(weighted)
    matrix = tf.reshape(weighted, (shape[0], shape[1] * shape[2], shape[3]))
    centred = matrix - tf.reduce_mean(matrix, axis=1, keepdims=True)
    _, _, v = tf.linalg.svd(centred, full_matrices=False)
    projection = tf.einsum("bnk,bk->bn", centred, v[:, :, 0])
    reference = tf.reduce_mean(matrix, axis=2)
    reference -= tf.reduce_mean(reference, axis=1, keepdims=True)
    agreement = tf.reduce_sum(projection * reference, axis=1, keepdims=True)
    projection = tf.where(agreement < 0, -projection, projection)
    return tf.reshape(projection, shape[:3])


def _chunked_scores(progress, total, chunk, score_fn):
    """`score_fn(index)` over `range(total)`, `chunk` indices at a time.

    A `tf.while_loop` with one chunk in flight (`parallel_iterations=1`), so
    that memory is bounded by `chunk` however large `total`; reports each
    chunk to `progress`. Returns float32 `(total,)`.
    """
    num_chunks = (total + chunk - 1) // chunk

    def body(i, scores):
        index = tf.range(i * chunk, tf.minimum((i + 1) * chunk, total))
        score = score_fn(index)
        with tf.control_dependencies([score]):
            done = progress.tick(i + 1, num_chunks)
        return done, scores.write(i, score)

    _, scores = tf.while_loop(
        lambda i, _: i < num_chunks,
        body,
        (
            progress.tick(0, num_chunks),
            tf.TensorArray(tf.float32, size=num_chunks, infer_shape=False),
        ),
        parallel_iterations=1,
    )
    return scores.concat()


@lficam_export("lficam_tf.explain.BaseCAM")
class BaseCAM:
    """Base class of the CAM methods: L = ReLU(sum_k W_k), up-sampled.

    Subclasses override `channel_weights` (W_k = alpha_k A_k) or
    `weighted_activations` (W itself); see the module docstring. An instance
    builds its feature model and its compiled function once; reuse it for
    many batches.

    Args:
        model: a Functional or Sequential `keras.Model` classifier: one of
            the package's (dict outputs, `"logits"` is explained) or any model
            with one output of class scores, nested models included.
        layer: str, list of str, or None. The layer whose activations are
            weighted, a name or a path `"outer/inner"` for nested models; a
            list fuses several layers (LayerCAM only). Defaults to the last
            layer with a 4-D output (see the module docstring).
        strip_softmax: bool. Explain the logits before a final softmax.
            Defaults to `True`.
        reshape_transform: None, `"vit"` or a callable. Turns the layer's
            output (and its gradient) into `(batch_size, h, w, channels)`:
            `"vit"` drops the class token of `(batch_size, 1 + h*w,
            channels)` tokens (`vit_reshape_transform`). Needed for 3-D
            (token) outputs. Defaults to `None`.
        aug_smooth: bool. The mean map over horizontal flips and intensity
            factors 0.9, 1.0, 1.1 (six passes). Defaults to `False`.
        eigen_smooth: bool. The first principal component of the weighted
            activations instead of their sum. Defaults to `False`.
        **others: options of other methods, refused with a message that
            names the methods that take them (`GradCAM(model, top_n=8)`:
            `top_n` is Score-CAM's). Each method's own options, their
            defaults and their checks live in its class (`ScoreCAM`,
            `AblationCAM`); `explain` only forwards what it is given.

    Call arguments:
        images: float RGB images, `(batch_size, height, width, 3)`, as the
            model takes them.
        class_index: int32 `(batch_size,)`; -1 explains the predicted class.

    Returns:
        `(maps, probabilities, class_index)`: float32 maps
        `(batch_size, height, width)` in [0, 1], the softmax probabilities
        `(batch_size, num_classes)` of the same forward pass, and the
        explained classes `(batch_size,)` int32.
    """

    #: Name used by `lficam_tf.explain.explain(method=...)`.
    method = None
    #: The options of `lficam_tf.explain.explain` this method takes (its
    #: constructor's keyword arguments); `method_options` picks them.
    options = (
        "layer",
        "strip_softmax",
        "reshape_transform",
        "aug_smooth",
        "eigen_smooth",
    )
    #: Whether `channel_weights` / `weighted_activations` receive gradients.
    uses_gradients = True
    #: Whether `layer=[...]` fuses several layers' maps (LayerCAM).
    fuses_layers = False
    #: Always the first principal component (Eigen-CAM, EigenGrad-CAM).
    projects = False

    def __init__(
        self,
        model,
        layer=None,
        strip_softmax=True,
        reshape_transform=None,
        aug_smooth=False,
        eigen_smooth=False,
        **others,
    ):
        if others:
            raise _other_method_option(self.method, others)
        self.scores = scores_model(model, strip_softmax=strip_softmax)
        self.aug_smooth = _check_bool(aug_smooth, "aug_smooth")
        self.eigen_smooth = _check_bool(eigen_smooth, "eigen_smooth")
        self.reshape_transform = self._resolve_transform(reshape_transform)
        if layer is None:
            layer = graph.last_feature_layer(self.scores.model)
        layers = self._check_layers(layer)
        #: The explained layer, or the list of fused layers.
        self.layer = layers[0] if len(layers) == 1 else layers
        self.feature_model = graph.feature_model(
            self.scores.model, layers, include_output=True
        )
        for name, activations in zip(layers, self.feature_model.outputs[:-1]):
            self._check_rank(name, activations)
        self.num_channels = self.feature_model.outputs[0].shape[-1]
        self.num_classes = self.scores.model.outputs[0].shape[-1]
        input_shape = tuple(self.feature_model.inputs[0].shape)
        #: `(height, width)` the model takes; None entries for any size.
        self.image_size = tuple(input_shape[1:3])
        if None in input_shape[1:3]:
            # A model without a fixed size: one trace per image size.
            self._function = tf.function(self._explain_batch)
        else:
            self._function = tf.function(
                self._explain_batch,
                input_signature=[
                    tf.TensorSpec((None,) + input_shape[1:], tf.float32),
                    tf.TensorSpec((None,), tf.int32),
                ],
            )

    @staticmethod
    def _resolve_transform(reshape_transform):
        if reshape_transform is None or callable(reshape_transform):
            return reshape_transform
        if reshape_transform == "vit":
            return vit_reshape_transform
        raise ValueError(
            f"`reshape_transform` must be None, one of {RESHAPE_TRANSFORMS} or "
            "a callable (batch_size, ...) -> (batch_size, h, w, channels). "
            f"Received: reshape_transform={reshape_transform!r}"
        )

    def _check_layers(self, layer):
        if isinstance(layer, str):
            return [layer]
        if isinstance(layer, (list, tuple)) and all(isinstance(n, str) for n in layer):
            if not layer:
                raise ValueError(
                    "`layer` must name at least one layer. Received: layer=[]"
                )
            if len(layer) > 1 and not self.fuses_layers:
                raise ValueError(
                    f"`layer` must be one layer for method={self.method!r}: only "
                    "'layercam' fuses several layers (the element-wise maximum "
                    f"of their maps). Received: layer={list(layer)!r}. Pass one "
                    "layer name, or method='layercam'."
                )
            return list(layer)
        raise TypeError(
            "`layer` must be a layer name, a list of names (LayerCAM) or None. "
            f"Received: layer={layer!r}"
        )

    def _check_rank(self, name, activations):
        rank = len(activations.shape)
        shape = tuple(activations.shape)
        if self.reshape_transform is None:
            if rank == 3:
                raise ValueError(
                    f"`layer` {name!r} outputs tokens {shape}, not feature maps "
                    "(batch_size, h, w, channels). Pass reshape_transform='vit' "
                    "(drops the class token, reshapes the rest to a square "
                    "grid) or a callable that returns (batch_size, h, w, "
                    "channels)."
                )
            if rank != 4:
                raise ValueError(
                    "`layer` must output feature maps (batch_size, h, w, channels). "
                    f"Received: layer={name!r} with output shape {shape}. Leave "
                    "`layer=None` for the last feature map."
                )
        elif rank not in (3, 4):
            raise ValueError(
                "`reshape_transform` needs a layer whose output is 3-D tokens "
                "(batch_size, tokens, channels) or 4-D feature maps. Received: "
                f"layer={name!r} with output shape {shape}. Pick a transformer "
                "block's or a convolution's output as `layer`."
            )
        elif self.reshape_transform is vit_reshape_transform and rank != 3:
            raise ValueError(
                "reshape_transform='vit' takes tokens (batch_size, 1 + h*w, "
                f"channels). Received: layer={name!r} with output shape {shape}, "
                "already a feature map: leave `reshape_transform=None`."
            )

    def channel_weights(self, activations, gradients, images, class_index):
        """Override point 1: alpha, one weight per image and channel.

        Args:
            activations: float32 `(batch_size, h, w, K)`.
            gradients: float32 `(batch_size, h, w, K)`, d score / d
                activations, or None when `uses_gradients` is False.
            images: float32 `(batch_size, height, width, 3)`.
            class_index: int32 `(batch_size,)`, the explained classes.

        Returns:
            float32 `(batch_size, K)`.
        """
        raise NotImplementedError

    def weighted_activations(self, activations, gradients, images, class_index):
        """Override point 2: W `(batch_size, h, w, K)`; the map sums it over K.

        Defaults to `channel_weights(...)[:, None, None, :] * activations`.
        Arguments as for `channel_weights`.
        """
        weights = self.channel_weights(activations, gradients, images, class_index)
        return activations * weights[:, None, None, :]

    def probabilities(self, scores):
        """Softmax probabilities from the scores model's output."""
        scores = tf.cast(scores, tf.float32)
        return scores if self.scores.are_probabilities else tf.nn.softmax(scores)

    def _forward(self, images, class_index):
        """Activations, gradients (or None), probabilities and targets."""
        with tf.GradientTape(watch_accessed_variables=False) as tape:
            if self.uses_gradients:
                tape.watch(images)
            *activations, scores = self.feature_model(images, training=False)
            probabilities = self.probabilities(scores)
            predicted = tf.argmax(probabilities, axis=-1, output_type=tf.int32)
            target = tf.where(class_index < 0, predicted, class_index)
            selected = tf.gather(scores, target, batch_dims=1)
        gradients = [None] * len(activations)
        if self.uses_gradients:
            gradients = [
                tf.cast(g, tf.float32) for g in tape.gradient(selected, activations)
            ]
        activations = [tf.cast(a, tf.float32) for a in activations]
        return activations, gradients, probabilities, target

    def low_resolution_maps(self, images, class_index):
        """The maps before up-sampling, one per explained layer (eager).

        Arguments as for calling the explainer (`class_index` may hold -1).

        Returns:
            `(maps, probabilities, class_index)` with `maps` a list of float32
            `(batch_size, h, w)`, ReLU(sum_k W_k) (or ReLU of the first
            principal component), not normalised.
        """
        return self._low_resolution_maps(
            tf.cast(images, tf.float32), tf.cast(class_index, tf.int32)
        )

    def _low_resolution_maps(self, images, class_index):
        activations, gradients, probabilities, target = self._forward(
            images, class_index
        )
        maps = []
        for a, g in zip(activations, gradients):
            if self.reshape_transform is not None:
                a = tf.cast(self.reshape_transform(a), tf.float32)
                if g is not None:
                    g = tf.cast(self.reshape_transform(g), tf.float32)
            weighted = self.weighted_activations(a, g, images, target)
            if self.projects or self.eigen_smooth:
                cam = first_principal_component(weighted)
            else:
                cam = tf.reduce_sum(weighted, axis=-1)
            maps.append(tf.nn.relu(cam))
        return maps, probabilities, target

    def _fuse(self, maps, size):
        """Up-sample and min-max each layer's map; their element-wise max."""
        maps = [to_input_resolution(cam, size) for cam in maps]
        return maps[0] if len(maps) == 1 else tf.reduce_max(tf.stack(maps), axis=0)

    def _explain_batch(self, images, class_index):
        size = images.shape[1:3]
        if not self.aug_smooth:
            maps, probabilities, target = self._low_resolution_maps(images, class_index)
            return self._fuse(maps, size), probabilities, target
        probabilities = self.probabilities(self.scores.model(images, training=False))
        predicted = tf.argmax(probabilities, axis=-1, output_type=tf.int32)
        target = tf.where(class_index < 0, predicted, class_index)
        augmented = [
            factor * (images[:, :, ::-1] if flip else images)
            for flip in (False, True)
            for factor in AUG_SMOOTH_FACTORS
        ]
        n = len(augmented)
        maps, _, _ = self._low_resolution_maps(
            tf.concat(augmented, axis=0), tf.tile(target, [n])
        )
        maps = self._fuse(maps, size)
        maps = tf.reshape(maps, tf.concat([[n, -1], tf.shape(maps)[1:]], axis=0))
        half = len(AUG_SMOOTH_FACTORS)
        maps = tf.concat([maps[:half], maps[half:, :, :, ::-1]], axis=0)
        return minmax_normalize(tf.reduce_mean(maps, axis=0)), probabilities, target

    def __call__(self, images, class_index):
        images = tf.cast(images, tf.float32)
        return self._function(images, tf.cast(class_index, tf.int32))


def _other_method_option(method, options):
    """The error for `options` (a dict) that `method` does not take."""
    name, value = next(iter(options.items()))
    owners = [cls for cls in CAM_METHODS.values() if name in cls.options]
    if not owners:
        return TypeError(
            f"`{name}` is not an option of the CAM methods. Received: "
            f"method={method!r}, {name}={value!r}"
        )
    titles = " and ".join(METHOD_TITLES.get(cls.method, cls.method) for cls in owners)
    methods = " or ".join(repr(cls.method) for cls in owners)
    return ValueError(
        f"`{name}` is a {titles} option. Received: method={method!r}, "
        f"{name}={value!r}. Use method={methods}, or leave `{name}` out."
    )


@lficam_export("lficam_tf.explain.method_options")
def method_options(method, options):
    """The entries of `options` that `method` takes, for running several
    methods with one set of options (`lficam_tf.evaluation.evaluate`).

    `explain` and `get_explainer` refuse an option that their method does
    not take (Grad-CAM with `top_n`); this leaves it out instead. The
    native maps (`"native"`, `"lficam"`, `"abn"`) take none.

    Args:
        method: str. One of `lficam_tf.explain.METHODS`.
        options: dict of `explain`'s keyword options.

    Returns:
        dict, the options `method` takes.

    Raises:
        TypeError: an option that no method takes (a misspelt name).

    >>> method_options("gradcam", {"top_n": 8, "layer": "conv"})
    {'layer': 'conv'}
    >>> method_options("scorecam", {"top_n": 8, "layer": "conv"})
    {'top_n': 8, 'layer': 'conv'}
    """
    known = {name for cls in CAM_METHODS.values() for name in cls.options}
    for name, value in options.items():
        if name not in known:
            raise TypeError(
                f"`{name}` is not an option of the CAM methods, which take "
                f"{sorted(known)}. Received: {name}={value!r}"
            )
    takes = CAM_METHODS[method].options if method in CAM_METHODS else ()
    return {name: value for name, value in options.items() if name in takes}


def _check_bool(value, name):
    if not isinstance(value, bool):
        raise TypeError(f"`{name}` must be a bool. Received: {name}={value!r}")
    return value


@lficam_export("lficam_tf.explain.GradCAM")
class GradCAM(BaseCAM):
    """Grad-CAM: channels weighted by their spatially averaged gradient.

    alpha_k = (1 / hw) sum_ij d y^c / d A^k_ij, y^c the class logit. See
    `BaseCAM` for the arguments.

    Example:

    >>> import numpy as np, lficam_tf
    >>> model = lficam_tf.build_model("cifar_resnet20", 10, head="baseline")
    >>> maps, probabilities, target = GradCAM(model)(
    ...     np.random.uniform(0, 255, (2, 32, 32, 3)), np.array([-1, 3]))
    >>> tuple(maps.shape), int(target[1])
    ((2, 32, 32), 3)

    Reference:
        - [Selvaraju et al., Grad-CAM, ICCV 2017](https://arxiv.org/abs/1610.02391)
    """

    method = "gradcam"

    def channel_weights(self, activations, gradients, images, class_index):
        return tf.reduce_mean(gradients, axis=(1, 2))


@lficam_export("lficam_tf.explain.GradCAMPlusPlus")
class GradCAMPlusPlus(BaseCAM):
    """Grad-CAM++: positive gradients weighted per position.

    alpha_k = sum_ij a_ij ReLU(g_ij), a_ij = g^2 / (2 g^2 + sum_ab A_ab g^3)
    (0 where g = 0), with g the gradient of the class logit. See `BaseCAM`
    for the arguments.

    Example:

    >>> import numpy as np, lficam_tf
    >>> model = lficam_tf.build_model("cifar_resnet20", 10, head="baseline")
    >>> maps, _, _ = GradCAMPlusPlus(model)(np.zeros((1, 32, 32, 3)), np.array([-1]))
    >>> tuple(maps.shape)
    (1, 32, 32)

    Reference:
        - [Chattopadhyay et al., Grad-CAM++, WACV 2018](https://arxiv.org/abs/1710.11063)
    """

    method = "gradcam++"

    def channel_weights(self, activations, gradients, images, class_index):
        grads_2 = tf.square(gradients)
        grads_3 = grads_2 * gradients
        total = tf.reduce_sum(activations, axis=(1, 2), keepdims=True)
        denominator = 2.0 * grads_2 + total * grads_3
        safe = tf.where(denominator != 0.0, denominator, tf.ones_like(denominator))
        alpha = tf.where(gradients != 0.0, grads_2 / safe, tf.zeros_like(grads_2))
        return tf.reduce_sum(alpha * tf.nn.relu(gradients), axis=(1, 2))


@lficam_export("lficam_tf.explain.ScoreCAM")
class ScoreCAM(BaseCAM):
    """Score-CAM (and Faster Score-CAM with `top_n`): gradient-free weights.

    Channel k's activation, up-sampled to the input and min-max normalised
    to H^k in [0, 1], masks the input X; alpha_k is the class's softmax
    probability on X * H^k. By default X is the input after the model's
    preprocessing layer (the package's classifiers carry one as
    `model.preprocessor`), as in the authors' code, so that masked-out
    pixels take the dataset mean; a model without a `preprocessor` is
    masked on the images as it takes them. That is one forward pass per
    channel and image, run `chunk_size` masked images at a time in a
    `tf.while_loop` (one chunk in flight, `parallel_iterations=1`), so the
    memory of the masked passes is bounded by `chunk_size`, whatever the
    number of channels.

    Args:
        model: see `BaseCAM`.
        layer: see `BaseCAM`.
        chunk_size: int. Masked images per forward pass. Defaults to `32`.
        top_n: int or None. Score only the N channels of highest spatial
            variance per image (Faster Score-CAM); None scores every channel.
            Defaults to `None`.
        strip_softmax: see `BaseCAM`. The channel scores are always softmax
            probabilities.
        masking: str. `"preprocessed"`: multiply the input after the
            model's `preprocessor` (the Score-CAM authors' choice; masked-out
            pixels become the preprocessing's zero, e.g. the dataset mean).
            `"images"`: multiply the images as given (RGB 0..255 for the
            package's models: masked-out pixels black). Defaults to
            `"preprocessed"`.
        verbose: `"auto"`, `True` or `False`. A progress bar of the masked
            passes (chunks done, time per chunk, ETA), shown by `"auto"` once
            a call has run 2 s: Score-CAM of one 224x224 image on ResNet-50
            is 2,048 forward passes, minutes on a CPU. Defaults to `"auto"`.
        **options: `reshape_transform`, `aug_smooth`, `eigen_smooth`, see
            `BaseCAM`.

    Example:

    >>> import numpy as np, lficam_tf
    >>> model = lficam_tf.build_model("cifar_resnet20", 10, head="baseline")
    >>> cam = ScoreCAM(model, chunk_size=64, top_n=8)
    >>> maps, _, _ = cam(np.random.uniform(0, 255, (1, 32, 32, 3)), np.array([-1]))
    >>> float(maps.numpy().max())
    1.0

    Reference:
        - [Wang et al., Score-CAM, CVPR-W 2020](https://arxiv.org/abs/1910.01279)
        - [Faster Score-CAM](https://github.com/tabayashi0117/Score-CAM)
    """

    method = "scorecam"
    options = BaseCAM.options + ("chunk_size", "top_n", "masking")
    uses_gradients = False

    def __init__(
        self,
        model,
        layer=None,
        chunk_size=32,
        top_n=None,
        strip_softmax=True,
        masking="preprocessed",
        verbose="auto",
        **options,
    ):
        chunk_size = check_int(
            chunk_size,
            "chunk_size",
            minimum=1,
            fix="It is the number of masked images per forward pass: pass e.g. "
            "chunk_size=32 (less uses less memory).",
        )
        top_n = check_int(
            top_n,
            "top_n",
            minimum=1,
            optional=True,
            fix="Pass the number of channels to score (Faster Score-CAM), e.g. "
            "top_n=32, or None to score every channel.",
        )
        if not isinstance(masking, str):
            raise TypeError(
                f"`masking` must be a str, one of {MASKINGS}. Received: "
                f"masking={masking!r}"
            )
        if masking not in MASKINGS:
            raise ValueError(
                f"`masking` must be one of {MASKINGS}: 'preprocessed' multiplies "
                "the input after the model's preprocessing (the Score-CAM "
                "authors' code), 'images' the images as given. Received: "
                f"masking={masking!r}"
            )
        self.chunk_size = chunk_size
        self.top_n = top_n
        self.masking = masking
        self.progress = GraphProgress(verbose, unit="chunk")
        super().__init__(model, layer=layer, strip_softmax=strip_softmax, **options)
        preprocessor = getattr(model, "preprocessor", None)
        if masking == "images" or preprocessor is None:
            #: The layer whose output is masked (None: the images).
            self.preprocessor = None
            #: The network that scores the masked inputs.
            self.network = self.scores.model
        else:
            self.preprocessor = preprocessor
            self.network = graph.skip_layer(self.scores.model, preprocessor)

    def channel_weights(self, activations, gradients, images, class_index):
        batch = tf.shape(activations)[0]
        num_channels = self.num_channels
        if self.top_n is not None and self.top_n < num_channels:
            variance = tf.math.reduce_variance(activations, axis=(1, 2))
            _, channels = tf.math.top_k(variance, k=self.top_n)
            selected = tf.gather(activations, channels, axis=3, batch_dims=1)
            per_image = self.top_n
        else:
            channels = None
            selected = activations
            per_image = num_channels
        # (batch * per_image, h, w, 1): image b's channel n at b * per_image + n.
        masks = tf.reshape(
            tf.transpose(selected, (0, 3, 1, 2)),
            (-1, selected.shape[1], selected.shape[2], 1),
        )
        total = batch * per_image
        size = images.shape[1:3]
        if self.preprocessor is not None:
            images = tf.cast(self.preprocessor(images, training=False), tf.float32)

        def score_fn(index):
            image_index = index // per_image
            low_res = tf.gather(masks, index)
            upsampled = tf.image.resize(low_res, size, method="bilinear")[..., 0]
            span = tf.reduce_max(upsampled, axis=(1, 2)) - tf.reduce_min(
                upsampled, axis=(1, 2)
            )
            normalized = minmax_normalize(upsampled)
            masked = tf.gather(images, image_index) * normalized[..., None]
            probabilities = self.probabilities(self.network(masked, training=False))
            target = tf.gather(class_index, image_index)
            score = tf.gather(probabilities, target, batch_dims=1)
            return tf.where(span > 0, score, tf.zeros_like(score))

        scores = _chunked_scores(self.progress, total, self.chunk_size, score_fn)
        weights = tf.reshape(scores, (batch, per_image))
        if channels is None:
            return weights
        index = tf.stack(
            [tf.broadcast_to(tf.range(batch)[:, None], tf.shape(channels)), channels],
            axis=-1,
        )
        return tf.scatter_nd(index, weights, (batch, num_channels))


def _example(name, extra=""):
    """The docstring example of a method class: a small Sequential CNN."""
    return f"""
    Example:

    >>> import keras, numpy as np
    >>> model = keras.Sequential([keras.Input((16, 16, 3)),
    ...     keras.layers.Conv2D(8, 3, activation="relu"),
    ...     keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(4)])
    >>> maps, _, target = {name}(model{extra})(
    ...     np.random.uniform(0, 255, (2, 16, 16, 3)), np.array([-1, 3]))
    >>> tuple(maps.shape), int(target[1])
    ((2, 16, 16), 3)
"""


@lficam_export("lficam_tf.explain.HiResCAM")
class HiResCAM(BaseCAM):
    """HiResCAM: the gradient applied per position, not averaged.

    L = ReLU(sum_k g_ijk A_ijk), g = d y^c / d A. Grad-CAM averages the
    gradient over positions before weighting; HiResCAM keeps each
    position's own gradient, so that the map follows the locations the
    score depends on. For a layer followed only by global average pooling
    and a dense layer (a gradient constant over positions), it equals
    Grad-CAM. One forward and one backward pass. See `BaseCAM` for the
    arguments.
    {example}
    Reference:
        - [Draelos & Carin, HiResCAM, arXiv 2011.08891](https://arxiv.org/abs/2011.08891)
    """

    method = "hirescam"

    def weighted_activations(self, activations, gradients, images, class_index):
        return gradients * activations


@lficam_export("lficam_tf.explain.GradCAMElementWise")
class GradCAMElementWise(BaseCAM):
    """Grad-CAM element-wise: the positive part of each g * A term.

    L = ReLU(sum_k ReLU(g_ijk A_ijk)), g = d y^c / d A: HiResCAM without the
    negative products (pytorch-grad-cam's `GradCAMElementWise`). One forward
    and one backward pass. See `BaseCAM` for the arguments.
    {example}
    Reference:
        - [Draelos & Carin, HiResCAM, arXiv 2011.08891](https://arxiv.org/abs/2011.08891)
        - [pytorch-grad-cam](https://github.com/jacobgil/pytorch-grad-cam)
    """

    method = "gradcam-elementwise"

    def weighted_activations(self, activations, gradients, images, class_index):
        return tf.nn.relu(gradients * activations)


@lficam_export("lficam_tf.explain.XGradCAM")
class XGradCAM(BaseCAM):
    """XGrad-CAM: gradients weighted by the normalised activations.

    alpha_k = sum_ij g_ijk A_ijk / (sum_ij A_ijk + 1e-7), L = ReLU(sum_k
    alpha_k A_k), the weights that satisfy the paper's sensitivity and
    conservation axioms. One forward and one backward pass. See `BaseCAM`
    for the arguments.
    {example}
    Reference:
        - [Fu et al., XGrad-CAM, BMVC 2020](https://arxiv.org/abs/2008.02312)
    """

    method = "xgradcam"

    def channel_weights(self, activations, gradients, images, class_index):
        total = tf.reduce_sum(activations, axis=(1, 2))
        return tf.reduce_sum(gradients * activations, axis=(1, 2)) / (total + 1e-7)


@lficam_export("lficam_tf.explain.LayerCAM")
class LayerCAM(BaseCAM):
    """LayerCAM: positive gradients as per-position weights; fuses layers.

    L = ReLU(sum_k ReLU(g_ijk) A_ijk), g = d y^c / d A, reliable on shallow
    layers too. With `layer=[...]`, each layer's map is up-sampled and
    min-max normalised and the maps are fused by their element-wise maximum.
    One forward and one backward pass (for all layers together). See
    `BaseCAM` for the arguments.
    {example}
    Reference:
        - [Jiang et al., LayerCAM, IEEE TIP 2021](https://doi.org/10.1109/TIP.2021.3089943)
    """

    method = "layercam"
    fuses_layers = True

    def weighted_activations(self, activations, gradients, images, class_index):
        return tf.nn.relu(gradients) * activations


@lficam_export("lficam_tf.explain.EigenCAM")
class EigenCAM(BaseCAM):
    """Eigen-CAM: the first principal component of the activations.

    The (h*w, K) activations, columns centred, projected on their first
    right singular vector, signed to correlate positively with the channel
    mean of A (an SVD's sign is arbitrary), then ReLU. No gradients: the
    map is the same for every class. One forward pass and an SVD. See
    `BaseCAM` for the arguments.
    {example}
    Reference:
        - [Muhammad & Yeasin, Eigen-CAM, IJCNN 2020](https://arxiv.org/abs/2008.00299)
    """

    method = "eigencam"
    uses_gradients = False
    projects = True

    def weighted_activations(self, activations, gradients, images, class_index):
        return activations


@lficam_export("lficam_tf.explain.EigenGradCAM")
class EigenGradCAM(BaseCAM):
    """EigenGrad-CAM: the first principal component of g * A.

    Eigen-CAM (same projection and sign rule) on the activations times
    their gradient g = d y^c / d A, so that the map depends on the class
    (pytorch-grad-cam's `EigenGradCAM`). One forward and one backward pass
    and an SVD. See `BaseCAM` for the arguments.
    {example}
    Reference:
        - [Muhammad & Yeasin, Eigen-CAM, IJCNN 2020](https://arxiv.org/abs/2008.00299)
        - [pytorch-grad-cam](https://github.com/jacobgil/pytorch-grad-cam)
    """

    method = "eigengradcam"
    projects = True

    def weighted_activations(self, activations, gradients, images, class_index):
        return gradients * activations


@lficam_export("lficam_tf.explain.AblationCAM")
class AblationCAM(BaseCAM):
    """Ablation-CAM: each channel weighted by the score lost without it.

    alpha_k = (y^c - y^c_k) / y^c, y^c_k the class score (before the
    softmax) with channel k of A set to 0 (0 where y^c = 0); L = ReLU(sum_k
    alpha_k A_k). Only the layers after the explained one are rerun, on the
    ablated activations, `chunk_size` of the batch_size * K ablations at a
    time in a `tf.while_loop`: K passes of the network's tail per image,
    with a progress bar when a call runs long. Zero is the paper's
    ablation (pytorch-grad-cam uses a very negative value on layers with
    negative activations).

    Args:
        model: see `BaseCAM`.
        layer: see `BaseCAM` (one layer).
        chunk_size: int. Ablated feature maps per pass. Defaults to `32`.
        strip_softmax: see `BaseCAM`.
        verbose: `"auto"`, `True` or `False`: the progress bar of the
            ablated passes, shown by `"auto"` once a call has run 2 s.
            Defaults to `"auto"`.
        **options: `aug_smooth`, `eigen_smooth`, see `BaseCAM`
            (`reshape_transform` is not supported: an ablation edits the
            layer's own output).
    {example}
    Reference:
        - [Desai & Ramaswamy, Ablation-CAM, WACV 2020](https://openaccess.thecvf.com/content_WACV_2020/html/Desai_Ablation-CAM_Visual_Explanations_for_Deep_Convolutional_Network_via_Gradient-free_Localization_WACV_2020_paper.html)
    """

    method = "ablationcam"
    options = ("layer", "chunk_size", "strip_softmax", "aug_smooth", "eigen_smooth")
    uses_gradients = False

    def __init__(
        self,
        model,
        layer=None,
        chunk_size=32,
        strip_softmax=True,
        verbose="auto",
        **options,
    ):
        self.chunk_size = check_int(
            chunk_size,
            "chunk_size",
            minimum=1,
            fix="It is the number of ablated feature maps per pass: pass e.g. "
            "chunk_size=32 (less uses less memory).",
        )
        self.progress = GraphProgress(verbose, unit="chunk")
        if options.get("reshape_transform") is not None:
            raise ValueError(
                "`reshape_transform` is not supported by method='ablationcam', "
                "which edits the layer's own output and reruns what follows. "
                f"Received: reshape_transform={options['reshape_transform']!r}. "
                "Use a gradient method or 'eigencam' / 'scorecam' on token models."
            )
        super().__init__(model, layer=layer, strip_softmax=strip_softmax, **options)
        #: The layers after `layer`, and whether they also take the images.
        self.tail, self.tail_takes_inputs = graph.model_after(
            self.scores.model, self.layer
        )

    def _tail_scores(self, features, images, class_index):
        inputs = [images, features] if self.tail_takes_inputs else features
        scores = tf.cast(self.tail(inputs, training=False), tf.float32)
        return tf.gather(scores, class_index, batch_dims=1)

    def channel_weights(self, activations, gradients, images, class_index):
        batch = tf.shape(activations)[0]
        num_channels = self.num_channels
        original = self._tail_scores(activations, images, class_index)

        def score_fn(index):
            image_index = index // num_channels
            keep = 1.0 - tf.one_hot(index % num_channels, num_channels)
            features = tf.gather(activations, image_index) * keep[:, None, None, :]
            return self._tail_scores(
                features,
                tf.gather(images, image_index),
                tf.gather(class_index, image_index),
            )

        ablated = _chunked_scores(
            self.progress, batch * num_channels, self.chunk_size, score_fn
        )
        ablated = tf.reshape(ablated, (batch, num_channels))
        original = original[:, None]
        safe = tf.where(original == 0.0, tf.ones_like(original), original)
        return tf.where(original == 0.0, 0.0, (original - ablated) / safe)


for _cls in (
    HiResCAM,
    GradCAMElementWise,
    XGradCAM,
    LayerCAM,
    EigenCAM,
    EigenGradCAM,
    AblationCAM,
):
    _cls.__doc__ = _cls.__doc__.replace("{example}", _example(_cls.__name__))
del _cls

#: Post-hoc methods by name, in the order of `lficam_tf.choices.POST_HOC_METHODS`.
CAM_METHODS = {
    cls.method: cls
    for cls in (
        GradCAM,
        HiResCAM,
        GradCAMElementWise,
        GradCAMPlusPlus,
        XGradCAM,
        LayerCAM,
        EigenCAM,
        EigenGradCAM,
        ScoreCAM,
        AblationCAM,
    )
}
