"""TFDS test helpers: a "prepared" dataset without downloading anything.

`tfds.testing.mock_data` replaces the stored examples by random ones; the
split names and sizes come from a `dataset_info.json`, which
`prepare_metadata` writes as `download_and_prepare` would (TFDS' pip package
ships no metadata).
"""

import os

import tensorflow_datasets as tfds


def prepare_metadata(data_dir, name, splits):
    """Write what `download_and_prepare` would write, without the examples."""
    builder = tfds.builder(name, data_dir=str(data_dir))
    builder.info.set_splits(
        tfds.core.SplitDict(
            [
                tfds.core.SplitInfo(name=split, shard_lengths=[size], num_bytes=0)
                for split, size in splits.items()
            ]
        )
    )
    os.makedirs(builder.data_dir, exist_ok=True)
    builder.info.write_to_directory(builder.data_dir)


def mock_examples(data_dir, num_examples=6):
    """`tfds.testing.mock_data` serving random examples of the prepared splits."""
    return tfds.testing.mock_data(
        num_examples=num_examples,
        policy=tfds.testing.MockPolicy.USE_FILES,
        data_dir=str(data_dir),
    )
