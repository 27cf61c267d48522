"""The models of the study, as data: `RunSpec` (one model: dataset, head,
recipe variant, epochs, input size, backbone, FIN width), its name and its
`TrainConfig`; the specs each experiment trains (`variant_specs`,
`evaluation_specs`)."""

import dataclasses

from studylib.datasets import get_dataset
from studylib.recipes import Variant

HEAD_TITLES = {"lficam": "LFI-CAM", "abn": "ABN", "baseline": "baseline"}


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """One model of the study: dataset, head, recipe variant, epochs, input
    size (None: the dataset's own, 32 for CIFAR-10, 64 for shapes), backbone
    (None: the base recipe's) and FIN width (`build_model`'s `fin_width`:
    "auto", None for the paper's K -> K, or an int)."""

    dataset: str
    head: str
    variant: Variant
    epochs: int
    image_size: int | None = None
    backbone: str | None = None
    fin_width: int | str | None = "auto"

    @property
    def name(self):
        """The run's folder and result name, e.g. `lficam-lr0.05-s2-e15`
        (`-i32` added for an input size other than the dataset's own, then
        `-<backbone>` for another backbone than the recipe's and `-w16` /
        `-wfull` for a FIN width other than the backbone's default)."""
        size = "" if self.image_size is None else f"-i{self.image_size}"
        backbone = "" if self.backbone is None else f"-{self.backbone}"
        width = {"auto": "", None: "-wfull"}.get(self.fin_width, f"-w{self.fin_width}")
        return f"{self.head}-{self.variant.name}-e{self.epochs}{size}{backbone}{width}"

    def config(self, study):
        """The run's `TrainConfig`: the dataset's base recipe, its data at
        the study's size, then this run's changes."""
        from lficam_tf.training import make_config

        dataset = get_dataset(self.dataset)
        recipe = dict(dataset.base_recipe)
        preset = recipe.pop("preset")
        recipe.update(dataset.training_fields(study))
        recipe.update(
            self.variant.overrides(), epochs=self.epochs, image_size=self.image_size
        )
        if self.backbone is not None:
            recipe["backbone"] = self.backbone
        if self.fin_width != "auto":
            recipe["fin_width"] = self.fin_width
        return make_config(
            preset,
            head=self.head,
            output_dir=str(study.run_path(self)),
            verbose=study.verbose,
            **recipe,
        )


def variant_specs(size, dataset, heads, count):
    """RunSpecs of the first `count` variants of `dataset` for each head.

    The first `size.seeds` variants (the accuracy runs) train for the
    dataset's `epochs` at `size`, the others for its `variant_epochs`
    (`studylib.datasets.DatasetSize`; on CIFAR-10 `size.cifar_epochs` and
    `size.cifar_variant_epochs`, on "shapes" `size.shapes_epochs` for all).
    """
    data = get_dataset(dataset)
    part = data.size(size)
    specs = []
    for index, variant in enumerate(data.variants[:count]):
        epochs = part.epochs if index < size.seeds else part.variant_epochs
        specs += [
            RunSpec(dataset, head, variant, epochs, part.image_size) for head in heads
        ]
    return specs


def evaluation_specs(size, dataset):
    """The models whose maps are scored: each head with the base recipe, seed 0."""
    return variant_specs(size, dataset, ("lficam", "abn", "baseline"), 1)
