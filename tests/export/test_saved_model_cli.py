"""`saved_model_cli show --all` lists the signatures, their inputs and
outputs with names, dtypes and shapes, as TF Serving will see them."""

import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest
import tensorflow as tf


def saved_model_cli(path):
    """The `show --all` text of the CLI that ships with tensorflow."""
    cli = pathlib.Path(sys.executable).with_name("saved_model_cli")
    cli = str(cli) if cli.exists() else shutil.which("saved_model_cli")
    assert cli, "saved_model_cli (installed with tensorflow) not found"
    result = subprocess.run(
        [cli, "show", "--all", "--dir", str(path)],
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def parse_signatures(text):
    """`{signature: {"inputs"|"outputs": {name: (dtype, shape)}, "method": ...}}`."""
    signatures = {}
    blocks = re.split(r"^signature_def\['(\w+)'\]:$", text, flags=re.M)
    for name, body in zip(blocks[1::2], blocks[2::2]):
        body = body.split("\nConcrete Functions:")[0]
        entry = {"inputs": {}, "outputs": {}}
        for kind, key, dtype, shape in re.findall(
            r"(inputs|outputs)\['(\w+)'\] tensor_info:\s+dtype: (\w+)\s+shape: ([^\n]+)",
            body,
        ):
            entry[kind][key] = (dtype, shape.strip())
        method = re.search(r"Method name is: (\S*)", body)
        entry["method"] = method.group(1) if method else None
        signatures[name] = entry
    return signatures


COMMON_OUTPUTS = {
    "logits": ("DT_FLOAT", "(-1, 10)"),
    "probabilities": ("DT_FLOAT", "(-1, 10)"),
    "classes": ("DT_INT32", "(-1, 3)"),
    "scores": ("DT_FLOAT", "(-1, 3)"),
}
INPUTS = {
    "serving_default": {"images": ("DT_FLOAT", "unknown_rank")},
    "serving_uint8": {"images": ("DT_UINT8", "unknown_rank")},
    "serving_bytes": {"image_bytes": ("DT_STRING", "unknown_rank")},
}


@pytest.mark.slow
def test_lficam_signatures(exports):
    signatures = parse_signatures(saved_model_cli(exports["lficam"]))
    assert set(INPUTS) <= set(signatures)
    for name, inputs in INPUTS.items():
        assert signatures[name]["method"] == "tensorflow/serving/predict"
        assert signatures[name]["inputs"] == inputs
        assert signatures[name]["outputs"] == {
            **COMMON_OUTPUTS,
            "class_names": ("DT_STRING", "(-1, 3)"),
            "attention": ("DT_FLOAT", "(-1, 32, 32, 1)"),
            "attention_features": ("DT_FLOAT", "(-1, 8, 8, 1)"),
            "importance": ("DT_FLOAT", "(-1, 64)"),
        }


def test_baseline_signatures_have_no_attention(loaded):
    # The same SignatureDefs the CLI prints, read through the loaded model.
    for name in INPUTS:
        signature = loaded["baseline"].signatures[name]
        outputs = {
            key: (spec.dtype.as_datatype_enum, tuple(spec.shape))
            for key, spec in signature.structured_outputs.items()
        }
        assert outputs == {
            "logits": (tf.float32.as_datatype_enum, (None, 10)),
            "probabilities": (tf.float32.as_datatype_enum, (None, 10)),
            "classes": (tf.int32.as_datatype_enum, (None, 3)),
            "scores": (tf.float32.as_datatype_enum, (None, 3)),
        }


def test_parse_signatures_reads_the_cli_format():
    text = (
        "signature_def['serving_default']:\n"
        "  The given SavedModel SignatureDef contains the following input(s):\n"
        "    inputs['images'] tensor_info:\n"
        "        dtype: DT_FLOAT\n"
        "        shape: unknown_rank\n"
        "        name: serving_default_images:0\n"
        "  The given SavedModel SignatureDef contains the following output(s):\n"
        "    outputs['scores'] tensor_info:\n"
        "        dtype: DT_FLOAT\n"
        "        shape: (-1, 3)\n"
        "        name: StatefulPartitionedCall:0\n"
        "  Method name is: tensorflow/serving/predict\n"
    )
    assert parse_signatures(text) == {
        "serving_default": {
            "inputs": {"images": ("DT_FLOAT", "unknown_rank")},
            "outputs": {"scores": ("DT_FLOAT", "(-1, 3)")},
            "method": "tensorflow/serving/predict",
        }
    }
