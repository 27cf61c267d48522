"""notebooks/compare_cams.ipynb in a fresh clone offline: no ../shared/data,
no Keras copy of CIFAR-10, no network. Its image cell says so and falls back
to the built-in images instead of failing on the download."""

import os
import pathlib
import socket
import tarfile

import numpy as np
from notebook_utils import stored_code_cells


def _offline(*args, **kwargs):
    raise OSError("network is unreachable (test)")


def test_offline_fresh_clone_falls_back_to_built_in_images(
    tmp_path, monkeypatch, capsys
):
    cell = next(
        c.source
        for c in stored_code_cells("compare_cams.ipynb")
        if "def cifar10_test_images" in c.source
    )
    monkeypatch.chdir(tmp_path)  # no shared/data above it
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))  # nothing cached
    monkeypatch.setattr(socket, "create_connection", _offline)
    names = {"np": np, "os": os, "pathlib": pathlib, "tarfile": tarfile,
             "FAST": True, "NUM_IMAGES": 4}  # fmt: skip
    exec(cell, names)
    capsys.readouterr()
    images, labels = names["cifar10_test_images"](4)
    assert images.shape == (4, 32, 32, 3) and labels.shape == (4,)
    out = capsys.readouterr().out
    assert "no network for their download (170 MB)" in out
    assert "using the package's built-in generated images" in out
