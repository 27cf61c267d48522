"""The study's datasets, as data: one `StudyDataset` per name.

Each holds what the experiments need to know about a dataset: the base
recipe and the recipe variants of its models, its class names, its images'
own size, where its images come from, and its part of a `Size` (epochs,
images, input size). The code that trains and scores the models looks a
dataset up by name (`get_dataset`) instead of switching on the name.

>>> from studylib import SIZES, get_dataset
>>> get_dataset("cifar10").size(SIZES["full"]).variant_epochs
5
>>> [v.name for v in get_dataset("shapes").variants][:2]
['s0', 's1']
"""

import dataclasses
import difflib
from collections.abc import Callable

from studylib.recipes import Variant


@dataclasses.dataclass(frozen=True)
class DatasetSize:
    """One dataset's part of a `Size`."""

    #: Epochs of the first `Size.seeds` variants (the accuracy runs), and
    #: of the other variants (the rest of the stability models).
    epochs: int
    variant_epochs: int
    #: Training and test images (None: all of them).
    num_train: int | None
    num_test: int | None
    #: The models' input size (None: the dataset's own).
    image_size: int | None
    #: XLA-compile the training steps (None: the package decides).
    jit_compile: bool | None = None


@dataclasses.dataclass(frozen=True)
class StudyDataset:
    """One dataset of the study, as data.

    Attributes:
        name: str. The name the scripts take (`--dataset`), the folder of
            its runs and results (`runs/<name>/`, `results/runs/<name>/`).
        base_recipe: dict. `preset` and the `TrainConfig` fields every
            model of the dataset shares.
        variants: tuple of `Variant`. The recipes of the stability study;
            the first `Size.seeds` of them are the accuracy runs.
        class_names: tuple of str, in label order.
        image_size: `(height, width)` of its own images.
        source: callable `(study) -> str`. What `lficam_tf.data.load_data`
            (and so `TrainConfig.dataset`) loads: a built-in name, or a
            folder the study provides.
        sized: callable `(Size) -> DatasetSize`. Its part of a study size.
    """

    name: str
    base_recipe: dict
    variants: tuple
    class_names: tuple
    image_size: tuple
    source: Callable
    sized: Callable

    def size(self, size):
        """Its `DatasetSize` at the study size `size`."""
        return self.sized(size)

    def training_fields(self, study):
        """The `TrainConfig` fields of its data at `study`'s size."""
        part = self.size(study.size)
        return {
            "dataset": self.source(study),
            "num_train": part.num_train,
            "num_test": part.num_test,
            "jit_compile": part.jit_compile,
        }


def _cifar10_size(size):
    return DatasetSize(
        epochs=size.cifar_epochs,
        variant_epochs=size.cifar_variant_epochs,
        num_train=size.cifar_num_train,
        num_test=size.cifar_num_test,
        image_size=size.cifar_image_size,
        jit_compile=size.cifar_jit_compile,
    )


def _shapes_size(size):
    # Every "shapes" model trains as long as the accuracy runs; XLA as the
    # package decides.
    return DatasetSize(
        epochs=size.shapes_epochs,
        variant_epochs=size.shapes_epochs,
        num_train=size.shapes_num_train,
        num_test=size.shapes_num_test,
        image_size=size.shapes_image_size,
    )


#: The study's datasets by name. CIFAR-10: the paper's SGD (lr 0.1, momentum
#: 0.9, weight decay 1e-4 coupled, batch 128, padded crop + flip; the
#: `cifar` preset) on ResNet-20 for 15 epochs with a cosine schedule instead
#: of the paper's steps at 150 / 225 of 300 epochs (see
#: experiments/README.md, "Recipe"). shapes: the `shapes` preset (AdamW lr
#: 2e-3, cosine with half an epoch of warm-up, weight decay 5e-4 decoupled,
#: batch 64, 8,000 64x64 images).
#:
#: The 5 variants per dataset are the recipes of the stability experiment:
#: each changes the learning rate, the weight decay or the batch size, and
#: the seed. The first `seeds` of them (the base recipe with seeds 0, 1) are
#: also the accuracy runs.
STUDY_DATASETS = {
    "cifar10": StudyDataset(
        name="cifar10",
        base_recipe={
            "preset": "cifar",
            "backbone": "cifar_resnet20",
            "schedule": "cosine",
        },
        variants=(
            Variant("s0", seed=0),
            Variant("s1", seed=1),
            Variant("lr0.05-s2", seed=2, learning_rate=0.05),
            Variant("wd5e-4-s3", seed=3, weight_decay=5e-4),
            Variant("b256-s4", seed=4, batch_size=256),
        ),
        # The sorted class folders of the CIFAR-10 images, as the shipped
        # classifiers name them (lficam_tf.backbones.weights).
        class_names=(
            "airplane",
            "automobile",
            "bird",
            "cat",
            "deer",
            "dog",
            "frog",
            "horse",
            "ship",
            "truck",
        ),
        image_size=(32, 32),
        # The shared tarballs unpacked once, or --cifar-dir.
        source=lambda study: str(study.cifar_dir()),
        sized=_cifar10_size,
    ),
    "shapes": StudyDataset(
        name="shapes",
        # The study's shapes models are ResNet-20 with the authors' stem,
        # whatever the `shapes` preset's (the default job's) backbone is.
        base_recipe={
            "preset": "shapes",
            "backbone": "cifar_resnet20",
            "stem_stride": None,
        },
        variants=(
            Variant("s0", seed=0),
            Variant("s1", seed=1),
            Variant("lr1e-3-s2", seed=2, learning_rate=1e-3),
            Variant("wd5e-3-s3", seed=3, weight_decay=5e-3),
            Variant("b128-s4", seed=4, batch_size=128),
        ),
        # lficam_tf.data.SHAPES_CLASS_NAMES.
        class_names=("circle", "square", "triangle", "cross", "star", "ring"),
        image_size=(64, 64),
        # Built into the package (generated in code, with object masks).
        source=lambda study: "shapes",
        sized=_shapes_size,
    ),
}

#: The names, in the order the scripts run them by default.
DATASETS = tuple(STUDY_DATASETS)
#: Each dataset's base recipe and variants (views of `STUDY_DATASETS`).
BASE_RECIPES = {name: data.base_recipe for name, data in STUDY_DATASETS.items()}
VARIANTS = {name: data.variants for name, data in STUDY_DATASETS.items()}

#: The paper's average IoU across 5 models (METHOD.md section 6 item 3).
PAPER_STABILITY = {
    "cifar10": {"abn": 0.29, "lficam": 0.60},
    "stl10": {"abn": 0.32, "lficam": 0.64},
    "catdog": {"abn": 0.30, "lficam": 0.73},
}


def get_dataset(name):
    """The `StudyDataset` named `name`, or a `ValueError` naming the others."""
    if name in STUDY_DATASETS:
        return STUDY_DATASETS[name]
    close = difflib.get_close_matches(str(name), DATASETS, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ValueError(
        f"Unknown study dataset {name!r}.{hint} The study's datasets: "
        f"{', '.join(DATASETS)}."
    )


def test_images(study, dataset, image_size, count):
    """`(images, labels, masks or None, class names)`: the first `count`
    test images of `dataset` in a fixed order (seed 0), the same for every
    model; loaded as `lficam-eval` loads them (`lficam_tf.data.load_data`,
    float32 RGB 0..255 at `image_size`)."""
    import numpy as np

    from lficam_tf.data import load_data

    bundle = load_data(
        get_dataset(dataset).source(study),
        image_size=tuple(image_size),
        seed=0,
        num_train=1,
        num_test=count,
    )
    pairs = list(bundle.test.take(count).as_numpy_iterator())
    if not pairs:
        raise ValueError(f"{dataset}: the test split has no images")
    images = np.stack([image for image, _ in pairs]).astype("float32")
    labels = np.array([label for _, label in pairs], "int32")
    masks = (
        None
        if bundle.test_masks is None
        else np.asarray(bundle.test_masks[: len(images)], bool)
    )
    return images, labels, masks, list(bundle.class_names)
