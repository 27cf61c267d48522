"""Post-hoc class activation maps for any Keras CNN classifier.

**TensorFlow-specific module**: gradients come from `tf.GradientTape` and
Score-CAM's masked passes run in a `tf.while_loop` inside a `tf.function`, so
that they stay on the device. The rest of `lficam_tf.explain` is
backend-neutral.

Every method here computes

    L^c = ReLU(sum_k alpha_k^c A^k)

from the activations A (batch_size, h, w, K) of one layer, then up-samples L
bilinearly to the input and min-max normalises it per image. The methods only
differ in the channel weights alpha, so they share one base class, `BaseCAM`,
with one override point, `channel_weights` (pytorch-grad-cam's design):

- Grad-CAM: alpha_k = mean_ij dy^c / dA^k_ij, with y^c the class score before
  the softmax (Selvaraju et al., arXiv 1610.02391, eq. 1-2).
- Grad-CAM++: alpha_k = sum_ij a_ij^k ReLU(dy^c / dA^k_ij) with
  a_ij^k = g^2 / (2 g^2 + sum_ab A^k_ab g^3), g = dy^c / dA^k_ij, the
  closed form for an exponential of the score (Chattopadhyay et al.,
  arXiv 1710.11063, eq. 19; the exponential's factor cancels in the
  normalisation); a_ij^k = 0 where g = 0.
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

import tensorflow as tf

from lficam_tf import graph
from lficam_tf.api_export import lficam_export
from lficam_tf.checks import check_int
from lficam_tf.choices import MASKINGS
from lficam_tf.explain.classifier_outputs import scores_model
from lficam_tf.explain.maps import minmax_normalize, to_input_resolution
from lficam_tf.explain.progress import GraphProgress


@lficam_export("lficam_tf.explain.BaseCAM")
class BaseCAM:
    """Base class of the CAM methods: L = ReLU(sum_k alpha_k A^k), up-sampled.

    Subclasses override `channel_weights` only (see the module docstring).
    An instance builds its feature model and its compiled function once;
    reuse it for many batches.

    Args:
        model: a Functional or Sequential `keras.Model` classifier: one of
            the package's (dict outputs, `"logits"` is explained) or any model
            with one output of class scores, nested models included.
        layer: str or None. The layer whose activations are weighted, a name
            or a path `"outer/inner"` for nested models. Defaults to the last
            layer with a 4-D output (see the module docstring).
        strip_softmax: bool. Explain the logits before a final softmax.
            Defaults to `True`.

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
    #: Whether `channel_weights` receives gradients.
    uses_gradients = True

    def __init__(self, model, layer=None, strip_softmax=True):
        self.scores = scores_model(model, strip_softmax=strip_softmax)
        self.layer = (
            graph.last_feature_layer(self.scores.model) if layer is None else layer
        )
        self.feature_model = graph.feature_model(
            self.scores.model, self.layer, include_output=True
        )
        activations = self.feature_model.outputs[0]
        if len(activations.shape) != 4:
            raise ValueError(
                "`layer` must output feature maps (batch_size, h, w, channels). "
                f"Received: layer={self.layer!r} with output shape "
                f"{tuple(activations.shape)}. Leave `layer=None` for the last "
                "feature map."
            )
        self.num_channels = activations.shape[-1]
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

    def channel_weights(self, activations, gradients, images, class_index):
        """The override point: alpha, one weight per image and channel.

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

    def probabilities(self, scores):
        """Softmax probabilities from the scores model's output."""
        scores = tf.cast(scores, tf.float32)
        return scores if self.scores.are_probabilities else tf.nn.softmax(scores)

    def _explain_batch(self, images, class_index):
        with tf.GradientTape(watch_accessed_variables=False) as tape:
            tape.watch(images)
            activations, scores = self.feature_model(images, training=False)
            probabilities = self.probabilities(scores)
            predicted = tf.argmax(probabilities, axis=-1, output_type=tf.int32)
            target = tf.where(class_index < 0, predicted, class_index)
            selected = tf.gather(scores, target, batch_dims=1)
        gradients = None
        if self.uses_gradients:
            gradients = tf.cast(tape.gradient(selected, activations), tf.float32)
        activations = tf.cast(activations, tf.float32)
        weights = self.channel_weights(activations, gradients, images, target)
        cam = tf.nn.relu(tf.einsum("bhwk,bk->bhw", activations, weights))
        maps = to_input_resolution(cam, images.shape[1:3])
        return maps, probabilities, target

    def __call__(self, images, class_index):
        images = tf.cast(images, tf.float32)
        return self._function(images, tf.cast(class_index, tf.int32))


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
    ):
        chunk_size = check_int(chunk_size, "chunk_size", minimum=1)
        top_n = check_int(top_n, "top_n", minimum=1, optional=True)
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
        super().__init__(model, layer=layer, strip_softmax=strip_softmax)
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
        chunk = self.chunk_size
        num_chunks = (total + chunk - 1) // chunk
        size = images.shape[1:3]
        if self.preprocessor is not None:
            images = tf.cast(self.preprocessor(images, training=False), tf.float32)

        def body(i, scores):
            index = tf.range(i * chunk, tf.minimum((i + 1) * chunk, total))
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
            score = tf.where(span > 0, score, tf.zeros_like(score))
            with tf.control_dependencies([score]):
                done = self.progress.tick(i + 1, num_chunks)
            return done, scores.write(i, score)

        _, scores = tf.while_loop(
            lambda i, _: i < num_chunks,
            body,
            (
                self.progress.tick(0, num_chunks),
                tf.TensorArray(tf.float32, size=num_chunks, infer_shape=False),
            ),
            parallel_iterations=1,
        )
        weights = tf.reshape(scores.concat(), (batch, per_image))
        if channels is None:
            return weights
        index = tf.stack(
            [tf.broadcast_to(tf.range(batch)[:, None], tf.shape(channels)), channels],
            axis=-1,
        )
        return tf.scatter_nd(index, weights, (batch, num_channels))



#: Post-hoc methods by name.
CAM_METHODS = {cls.method: cls for cls in (GradCAM, GradCAMPlusPlus, ScoreCAM)}
