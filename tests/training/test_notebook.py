"""notebooks/quickstart.ipynb: stored without outputs, and runs (reduced size)."""

import re

import pytest
from notebook_utils import execute, stored_code_cells

NAME = "quickstart.ipynb"


def test_stored_without_outputs():
    stored_code_cells(NAME)


@pytest.mark.slow
def test_runs_at_reduced_size(tmp_path, monkeypatch):
    cells, everything = execute(
        NAME, tmp_path, monkeypatch, "LFICAM_QUICKSTART_FAST", timeout=600
    )
    assert (
        "'logits': (2, 6)" in everything and "'attention': (2, 16, 16, 1)" in everything
    )
    assert "'test_accuracy'" in everything and "'energy_pointing_game'" in everything
    # The grid of maps is drawn.
    assert any(
        "image/png" in output.get("data", {})
        for cell in cells
        for output in cell.outputs
    )
    # The SavedModel answers like the Keras model.
    difference = float(
        re.search(r"largest difference to Keras: (\S+)", everything).group(1)
    )
    assert difference < 1e-4
