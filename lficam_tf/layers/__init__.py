"""Custom Keras layers of LFI-CAM and its comparison model (ABN)."""

from lficam_tf.layers.abn_attention_head import ABNAttentionHead
from lficam_tf.layers.feature_importance_network import (
    FeatureImportanceNetwork,
    scaled_fin_width,
)
from lficam_tf.layers.lfi_attention_map import LFIAttentionMap
from lficam_tf.layers.residual_attention import ResidualAttention
from lficam_tf.layers.reverse_channels import ReverseChannels

__all__ = [
    "ABNAttentionHead",
    "FeatureImportanceNetwork",
    "LFIAttentionMap",
    "ResidualAttention",
    "ReverseChannels",
    "scaled_fin_width",
]
