"""The fixed choices of the model options, importable without Keras.

`build_model(head=...)` and `FeatureImportanceNetwork(relu=...)` check their
arguments against these tuples, and `train_tf.py` lists them in `--help`,
which therefore needs neither Keras nor TensorFlow (an instant `--help`).

>>> from lficam_tf.choices import HEADS, RELU_PLACEMENTS
>>> HEADS, RELU_PLACEMENTS
(('lficam', 'abn', 'baseline'), ('paired', 'every'))
"""

#: The classifier heads of `lficam_tf.build_model`.
HEADS = ("lficam", "abn", "baseline")

#: Where the Feature Importance Network puts its ReLUs: after the 2nd and
#: 4th batch norm ("paired", the authors' CIFAR code) or after each one
#: ("every", their last ImageNet commit).
RELU_PLACEMENTS = ("paired", "every")
