"""How big the study is: `SIZES["full"]` (the study) and `SIZES["tiny"]`
(every script end to end in seconds: the tests; a few images of 16x16 or
32x32, one epoch)."""

import dataclasses

from lficam_tf.choices import POST_HOC_METHODS


@dataclasses.dataclass(frozen=True)
class Size:
    """How big the study is; `SIZES["full"]` or `SIZES["tiny"]`."""

    name: str
    #: CIFAR-10 training: epochs of the accuracy runs (and of the
    #: stability variants that are accuracy runs), epochs of the other
    #: stability variants, images (None: all) and input size.
    cifar_epochs: int
    cifar_variant_epochs: int
    cifar_num_train: int | None
    cifar_num_test: int | None
    cifar_image_size: int | None
    #: "shapes" training: epochs, images, input size (None: 64, the default).
    shapes_epochs: int
    shapes_num_train: int | None
    shapes_num_test: int | None
    shapes_image_size: int | None
    #: Seeds of the accuracy runs, and variants per method for stability.
    seeds: int
    variants: int
    #: Fixed test images of the stability maps and of the metrics.
    stability_images: int
    eval_images: dict
    #: Deletion / insertion steps.
    steps: int
    #: Methods scored by localization.py and faithfulness.py ("native" is
    #: the model's own map).
    eval_methods: tuple
    #: ROAD's percentages of removed pixels in those scores.
    road_percentages: tuple
    #: Images per forward pass of the evaluations.
    batch_size: int
    #: XLA-compile the CIFAR-10 training steps (None: the package decides,
    #: `lficam_tf.training.model_setup.use_xla`). On 2026-11-29's AVX2 host
    #: XLA was faster (one epoch of 3,840 images, interleaved, twice: LFI-CAM
    #: 118 / 130 -> 152 / 149 images/s, baseline 160 / 145 -> 172 / 163); on
    #: 2026-12-05's AVX-512 host slower (LFI-CAM 373 -> 244, ABN 228 -> 167).
    #: Off at the tiny size, where compiling would cost more than it saves.
    cifar_jit_compile: bool | None = False


SIZES = {
    "full": Size(
        name="full",
        cifar_epochs=15,
        # The three other CIFAR-10 stability models per method train for a
        # third of the accuracy runs' epochs: at 15 they alone would take
        # ~7 h on the study's machine (2026-12-05 speeds: LFI-CAM 261, ABN
        # 152 images/s), at 5 ~2.3 h, which keeps the study near the
        # issue's budget beside the 6 accuracy runs (~6.3 h, its minimum).
        cifar_variant_epochs=5,
        cifar_num_train=None,
        cifar_num_test=None,
        cifar_image_size=None,
        shapes_epochs=3,
        shapes_num_train=8000,
        shapes_num_test=1000,
        shapes_image_size=None,
        seeds=2,
        variants=5,
        stability_images=1000,
        eval_images={"cifar10": 500, "shapes": 300},
        steps=50,
        # Every method of the package: where LFI-CAM's own map ranks.
        eval_methods=("native",) + POST_HOC_METHODS,
        # pytorch-grad-cam's ROAD percentages (its tutorial's and the
        # `ROADCombined` example's): 8 sparse solves per image, method and
        # model instead of the paper's 18 (10..90), which on "shapes"'
        # 64x64 images would cost about an hour of the study for the solves.
        road_percentages=(20, 40, 60, 80),
        batch_size=100,
        cifar_jit_compile=None,
    ),
    "tiny": Size(
        name="tiny",
        cifar_epochs=1,
        cifar_variant_epochs=1,
        cifar_num_train=48,
        cifar_num_test=16,
        cifar_image_size=16,
        shapes_epochs=1,
        shapes_num_train=48,
        shapes_num_test=16,
        shapes_image_size=32,
        seeds=1,
        variants=2,
        stability_images=6,
        eval_images={"cifar10": 4, "shapes": 4},
        steps=3,
        eval_methods=("native", "gradcam"),
        road_percentages=(50,),
        batch_size=8,
    ),
}
