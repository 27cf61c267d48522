"""The fixed choices of options, importable without Keras or TensorFlow.

`build_model(head=...)`, `FeatureImportanceNetwork(relu=...)`,
`explain(method=...)`, `evaluate(target=...)`, `TrainConfig` and
`build_pipeline(augmentation=...)` check their arguments
against these tuples, and the command lines (`train_tf.py`, `lficam-explain`,
`lficam-eval`) list them in `--help`, which therefore needs neither Keras
nor TensorFlow (an instant `--help`).

>>> from lficam_tf.choices import HEADS, METHODS, RELU_PLACEMENTS
>>> HEADS, RELU_PLACEMENTS
(('lficam', 'abn', 'baseline'), ('paired', 'every'))
>>> METHODS[:7]
('native', 'lficam', 'abn', 'gradcam', 'hirescam', 'gradcam-elementwise', 'gradcam++')
"""

#: The classifier heads of `lficam_tf.build_model`.
HEADS = ("lficam", "abn", "baseline")

#: Where the Feature Importance Network puts its ReLUs: after the 2nd and
#: 4th batch norm ("paired", the authors' CIFAR code) or after each one
#: ("every", their last ImageNet commit).
RELU_PLACEMENTS = ("paired", "every")

#: How the Feature Importance Network computes its 3x3 convolutions (the
#: same sums): "conv", "matmul" (one matrix product over the nine shifted
#: maps) or "auto" (by kernel width, `FeatureImportanceNetwork`).
FIN_IMPLEMENTATIONS = ("auto", "conv", "matmul")

#: The model's own map ("native" picks whichever of "lficam" / "abn" it has).
NATIVE_METHODS = ("native", "lficam", "abn")

#: The post-hoc methods, the keys of `lficam_tf.explain.CAM_METHODS`.
POST_HOC_METHODS = (
    "gradcam",
    "hirescam",
    "gradcam-elementwise",
    "gradcam++",
    "xgradcam",
    "layercam",
    "eigencam",
    "eigengradcam",
    "scorecam",
    "ablationcam",
)

#: Every name `lficam_tf.explain.explain(method=...)` accepts.
METHODS = NATIVE_METHODS + POST_HOC_METHODS

#: How reports, tables and figures name each method of `METHODS`
#: ("native" is shown as the model's own "lficam" or "abn").
METHOD_TITLES = {
    "lficam": "LFI-CAM",
    "abn": "ABN",
    "gradcam": "Grad-CAM",
    "hirescam": "HiResCAM",
    "gradcam-elementwise": "Grad-CAM element-wise",
    "gradcam++": "Grad-CAM++",
    "xgradcam": "XGrad-CAM",
    "layercam": "LayerCAM",
    "eigencam": "Eigen-CAM",
    "eigengradcam": "EigenGrad-CAM",
    "scorecam": "Score-CAM",
    "ablationcam": "Ablation-CAM",
}

#: `explain(reshape_transform=...)`'s names (a callable is accepted too):
#: "vit" drops a vision transformer's class token, reshapes to a grid.
RESHAPE_TRANSFORMS = ("vit",)

#: What Score-CAM's masks multiply: the input after the model's
#: preprocessing (the Score-CAM authors' code) or the images as given.
MASKINGS = ("preprocessed", "images")

#: The training augmentation recipes (METHOD.md section 5): `TrainConfig`'s
#: `augmentation` and `train_tf.py --augmentation`. `build_pipeline` takes
#: them too, with None for "none" (`lficam_tf.data.AUGMENTATIONS`).
AUGMENTATIONS = ("none", "cifar", "imagenet")

#: The class each map of `lficam_tf.evaluation.evaluate` explains.
TARGETS = ("predicted", "label")

#: `TrainConfig.optimizer`: SGD with momentum, Adam, AdamW.
OPTIMIZERS = ("sgd", "adam", "adamw")

#: `TrainConfig.weight_decay_mode`: "coupled" (L2 in the gradient, the
#: authors' PyTorch SGD), "decoupled" (AdamW's) or "auto" (by optimizer).
WEIGHT_DECAY_MODES = ("auto", "coupled", "decoupled")

#: `TrainConfig.schedule`: the learning-rate schedules.
SCHEDULES = ("step", "cosine", "constant")

#: `TrainConfig.mixed_precision` (None is float32).
MIXED_PRECISION = ("float16", "bfloat16")

#: `TrainConfig.verbose`: Keras' progress output.
VERBOSE = ("auto", 0, 1, 2)
