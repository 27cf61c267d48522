"""The classifiers: LFI-CAM, ABN and the plain baseline, and `build_model`."""

from lficam_tf.models.abn_classifier import ABNClassifier
from lficam_tf.models.baseline_classifier import BaselineClassifier
from lficam_tf.models.build import HEADS, build_model
from lficam_tf.models.classifier import ImageClassifier
from lficam_tf.models.lficam_classifier import LFICAMClassifier

__all__ = [
    "ABNClassifier",
    "BaselineClassifier",
    "HEADS",
    "ImageClassifier",
    "LFICAMClassifier",
    "build_model",
]
