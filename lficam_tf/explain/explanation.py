"""`explain`: saliency maps and predictions for a batch of images, any method."""

import dataclasses

import keras
import numpy as np

from lficam_tf.api_export import lficam_export
from lficam_tf.checks import check_int, warn_if_scaled
from lficam_tf.choices import METHODS, NATIVE_METHODS  # noqa: F401 (public here)
from lficam_tf.explain.cams import CAM_METHODS
from lficam_tf.explain.images import check_images
from lficam_tf.explain.maps import check_class_index
from lficam_tf.explain.native import (
    NativeAttention,
    SavedModelAttention,
    is_saved_model,
)


@lficam_export("lficam_tf.explain.Explanation")
@dataclasses.dataclass
class Explanation:
    """What `explain` returns.

    Attributes:
        maps: float32 `(batch_size, height, width)` in [0, 1], at the input
            resolution.
        probabilities: float32 `(batch_size, num_classes)`, the softmax of the
            model's logits, from the same forward pass as the maps.
        class_index: int32 `(batch_size,)`, the class each map explains (the
            prediction unless one was given).
        method: str. The method that made the maps (`"native"` resolved to
            `"lficam"` or `"abn"`).
        layer: str, list of str (LayerCAM fusion) or None. The explained
            layer of post-hoc methods.
    """

    maps: np.ndarray
    probabilities: np.ndarray
    class_index: np.ndarray
    method: str
    layer: str | list | None = None

    @property
    def predictions(self):
        """int `(batch_size,)`: the predicted classes."""
        return np.argmax(self.probabilities, axis=-1)

    def top_k(self, k=5):
        """The k most probable classes per image, `(indices, probabilities)`.

        Both of shape `(batch_size, min(k, num_classes))`, most probable first.
        """
        k = min(int(k), self.probabilities.shape[-1])
        indices = np.argsort(-self.probabilities, axis=-1, kind="stable")[:, :k]
        return indices, np.take_along_axis(self.probabilities, indices, axis=-1)


#: The attribute of a Keras model that holds its explainers, by options.
_CACHE_ATTRIBUTE = "_lficam_explainers"


@lficam_export("lficam_tf.explain.get_explainer")
def get_explainer(
    model,
    method="native",
    layer=None,
    chunk_size=None,
    top_n=None,
    strip_softmax=True,
    masking=None,
    reshape_transform=None,
    aug_smooth=False,
    eigen_smooth=False,
):
    """The callable that `explain` runs per batch, built once per model.

    An explainer traces its TensorFlow function on its first call, which
    costs far more than a forward pass; so the explainer of a Keras model is
    kept with the model and returned again for the same options: `explain`
    called batch after batch (a serving loop) traces once. It reads the
    model's variables when called, so training the model in between is
    seen; the cache goes with the model.

    Args and returns: see `explain` (the explainer is called as
    `explainer(images, class_index)` with -1 for "the prediction" and returns
    tensors `(maps, probabilities, class_index)`).
    """
    options = {
        "layer": layer,
        "chunk_size": chunk_size,
        "top_n": top_n,
        "strip_softmax": strip_softmax,
        "masking": masking,
        "reshape_transform": reshape_transform,
        "aug_smooth": aug_smooth,
        "eigen_smooth": eigen_smooth,
    }
    if not isinstance(model, keras.Model):
        return _new_explainer(model, method, **options)
    key = (method,) + tuple(
        tuple(value) if isinstance(value, list) else value for value in options.values()
    )
    cache = model.__dict__.get(_CACHE_ATTRIBUTE)
    if cache is None:
        cache = {}
        # Set past Keras' attribute tracking: the cache is not model state
        # and must not be saved with it.
        object.__setattr__(model, _CACHE_ATTRIBUTE, cache)
    if key not in cache:
        cache[key] = _new_explainer(model, method, **options)
    return cache[key]


def _new_explainer(model, method, **options):
    """The explainer class of `method` with `options`: the given ones (not
    None) are forwarded, and the class defaults, checks or refuses them."""
    if method not in METHODS:
        raise ValueError(
            f"`method` must be one of {METHODS}. Received: method={method!r}"
        )
    if is_saved_model(model):
        if method not in NATIVE_METHODS:
            raise ValueError(
                f"`method` must be 'native' for a SavedModel: method={method!r} "
                "needs gradients or inner layers, which an export does not keep. "
                "Load the .keras model (keras.saving.load_model) to use "
                f"post-hoc methods. Received: method={method!r}"
            )
        return SavedModelAttention(model)
    if not isinstance(model, keras.Model):
        raise TypeError(
            "`model` must be a keras.Model (or a SavedModel loaded with "
            f"tf.saved_model.load). Received: model={type(model).__name__}"
        )
    if method in NATIVE_METHODS:
        _refuse_post_hoc_options(method, **options)
        return NativeAttention(model, method)
    given = {name: value for name, value in options.items() if value is not None}
    return CAM_METHODS[method](model, **given)


def _refuse_post_hoc_options(
    method,
    layer=None,
    chunk_size=None,
    top_n=None,
    strip_softmax=True,
    masking=None,
    reshape_transform=None,
    aug_smooth=False,
    eigen_smooth=False,
):
    """The model's own map takes no option that changes a post-hoc map.

    `chunk_size` (nothing to chunk) and `strip_softmax` (no score to take a
    gradient of) do not apply to it and are ignored.
    """
    if layer is not None or top_n is not None:
        raise ValueError(
            "`layer` and `top_n` are options of the post-hoc methods; "
            f"method={method!r} reads the model's own map. Received: "
            f"layer={layer!r}, top_n={top_n!r}"
        )
    if masking is not None:
        raise ValueError(
            f"`masking` is a Score-CAM option; method={method!r} reads the "
            f"model's own map. Received: masking={masking!r}"
        )
    if reshape_transform is not None or aug_smooth or eigen_smooth:
        raise ValueError(
            "`reshape_transform`, `aug_smooth` and `eigen_smooth` are "
            f"options of the post-hoc methods; method={method!r} reads the "
            "model's own map. Received: "
            f"reshape_transform={reshape_transform!r}, "
            f"aug_smooth={aug_smooth!r}, eigen_smooth={eigen_smooth!r}"
        )


@lficam_export("lficam_tf.explain.explain")
def explain(
    model,
    images,
    method="native",
    class_index=None,
    batch_size=32,
    layer=None,
    chunk_size=None,
    top_n=None,
    strip_softmax=True,
    masking=None,
    reshape_transform=None,
    aug_smooth=False,
    eigen_smooth=False,
):
    """Saliency maps and predictions for a batch of images.

    `method="native"` (or `"lficam"` / `"abn"`) reads the map an LFI-CAM or
    ABN model computes in its forward pass: map and prediction come from one
    call of the model per batch. The post-hoc methods, `"gradcam"`,
    `"hirescam"`, `"gradcam-elementwise"`, `"gradcam++"`, `"xgradcam"`,
    `"layercam"`, `"eigencam"`, `"eigengradcam"`, `"scorecam"` (`top_n` for
    Faster Score-CAM) and `"ablationcam"`, work on any Functional or
    Sequential Keras classifier, `keras.applications` models and nested
    models included, and on vision transformers with `reshape_transform`;
    see `lficam_tf.explain.cams` for their formulas and the layer they use.
    Every method returns the same format, so maps can be compared directly.
    The options a method does not take are refused, naming the methods that
    take them (`top_n` is Score-CAM's); each method's class defaults and
    checks its own.

    Args:
        model: one of the package's classifiers, any Keras classifier (one
            output of class scores, or a dict with `"logits"`), or, for the
            native map only, a SavedModel loaded with `tf.saved_model.load`.
        images: RGB images as the model takes them, `(batch_size, height,
            width, 3)`: float in 0..255 for the package's models (uint8 is
            accepted and converted); or a `tf.data.Dataset` of such batches
            (alone, or first in `(images, labels)`), read whole.
        method: str. One of `METHODS`. Defaults to `"native"`.
        class_index: None (explain the prediction), an int, or an int array
            `(batch_size,)`. LFI-CAM's and ABN's maps are the same for every
            class; `class_index` then only sets `Explanation.class_index`.
            Defaults to `None`.
        batch_size: int. Images per forward pass. Defaults to `32`.
        layer: str, list of str, or None. Post-hoc methods: the explained
            layer (path `"outer/inner"` for nested models); `"layercam"`
            also takes a list, whose maps it fuses. Defaults to the last
            feature map.
        chunk_size: int or None. Score-CAM: masked images per forward pass;
            Ablation-CAM: ablated feature maps per pass. Defaults to `None`,
            the method's own (32).
        top_n: int or None. Score-CAM: score only the N channels of highest
            variance (Faster Score-CAM). Defaults to `None`, every channel.
        strip_softmax: bool. Post-hoc methods: explain the logits before a
            model's final softmax. Defaults to `True`.
        masking: str or None. Score-CAM: `"preprocessed"` masks the input
            after the model's preprocessing (the Score-CAM authors' choice:
            masked-out pixels become the dataset mean), `"images"` the RGB
            images as given (masked-out pixels black). Defaults to `None`,
            Score-CAM's own (`"preprocessed"`).
        reshape_transform: None, `"vit"` or a callable. Post-hoc methods
            but Ablation-CAM: turns a layer's token output `(batch_size,
            1 + h*w, channels)` into `(batch_size, h, w, channels)` (`"vit"`
            drops the class token). Defaults to `None`.
        aug_smooth: bool. Post-hoc methods: the mean map over horizontal
            flips and intensity factors 0.9, 1.0, 1.1 (six times the cost).
            Defaults to `False`.
        eigen_smooth: bool. Post-hoc methods: the first principal component
            of the weighted activations instead of their sum. Defaults to
            `False`.

    Returns:
        An `Explanation` with `.maps` float32 `(batch_size, height, width)` in
        [0, 1], `.probabilities` `(batch_size, num_classes)`, `.class_index`
        `(batch_size,)` and `.method`.

    Example:

    >>> import numpy as np, lficam_tf
    >>> from lficam_tf.explain import explain
    >>> model = lficam_tf.build_model("cifar_resnet20", num_classes=10)
    >>> images = np.random.uniform(0, 255, (3, 32, 32, 3))
    >>> result = explain(model, images)
    >>> result.method, result.maps.shape, result.probabilities.shape
    ('lficam', (3, 32, 32), (3, 10))
    >>> explain(model, images, method="gradcam", class_index=2).class_index.tolist()
    [2, 2, 2]

    Reference:
        - [Lee et al., LFI-CAM, ICCV 2021](https://arxiv.org/abs/2105.00937)
        - [Selvaraju et al., Grad-CAM](https://arxiv.org/abs/1610.02391)
        - [Chattopadhyay et al., Grad-CAM++](https://arxiv.org/abs/1710.11063)
        - [Wang et al., Score-CAM](https://arxiv.org/abs/1910.01279)
        - the other methods' papers: `lficam_tf.explain.cams`
    """
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    images = check_images(images)
    warn_if_scaled(images)  # Once per call: 0..1 images pass every check.
    explainer = get_explainer(
        model,
        method,
        layer=layer,
        chunk_size=chunk_size,
        top_n=top_n,
        strip_softmax=strip_softmax,
        masking=masking,
        reshape_transform=reshape_transform,
        aug_smooth=aug_smooth,
        eigen_smooth=eigen_smooth,
    )
    return explain_checked(explainer, images, class_index, batch_size)


@lficam_export("lficam_tf.explain.explain_with")
def explain_with(explainer, images, class_index=None, batch_size=32):
    """`explain` with an explainer from `get_explainer`, reused across calls."""
    return explain_checked(explainer, check_images(images), class_index, batch_size)


def explain_checked(explainer, images, class_index=None, batch_size=32):
    """`explain_with` for images that `check_images` has returned.

    What `explain`, `explain_with` and `lficam_tf.evaluation.evaluate` run
    after checking their images once, however many explainers they run.
    Checks what depends on the explainer: the image size and `class_index`.
    """
    size = getattr(explainer, "image_size", None) or (None, None)
    if any(s is not None and s != i for s, i in zip(size, images.shape[1:3])):
        raise ValueError(
            f"`images` must be {size[0]}x{size[1]}, the size this model takes. "
            f"Received: images.shape={images.shape}. Resize them with "
            f"keras.ops.image.resize(images, {tuple(size)})."
        )
    targets = check_class_index(class_index, len(images), explainer.num_classes)
    maps, probabilities, explained = [], [], []
    for start in range(0, len(images), batch_size):
        stop = start + batch_size
        m, p, c = explainer(images[start:stop].astype("float32"), targets[start:stop])
        maps.append(np.asarray(m, "float32"))
        probabilities.append(np.asarray(p, "float32"))
        explained.append(np.asarray(c, "int32"))
    return Explanation(
        maps=np.concatenate(maps),
        probabilities=np.concatenate(probabilities),
        class_index=np.concatenate(explained),
        method=explainer.method,
        layer=getattr(explainer, "layer", None),
    )
