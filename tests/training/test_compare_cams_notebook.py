"""notebooks/compare_cams.ipynb: stored without outputs, and runs in test mode
(LFICAM_COMPARE_FAST=1: untrained models on generated images instead of the
shipped checkpoints on CIFAR-10)."""

import pytest
from notebook_utils import execute, stored_code_cells

NAME = "compare_cams.ipynb"


def test_stored_without_outputs():
    code = stored_code_cells(NAME)
    # Outside test mode it loads the shipped checkpoints.
    assert 'weights = None if FAST else "cifar10"' in "\n".join(c.source for c in code)


@pytest.mark.slow
def test_runs_in_test_mode(tmp_path, monkeypatch):
    cells, everything = execute(
        NAME, tmp_path, monkeypatch, "LFICAM_COMPARE_FAST", timeout=300
    )
    assert "'lficam': ['attention', 'importance', 'logits']" in everything
    assert "(4, 32, 32, 3)" in everything
    # The five methods' maps are drawn, and every model / method is scored.
    figures = [
        output
        for cell in cells
        for output in cell.outputs
        if "image/png" in output.get("data", {})
    ]
    assert len(figures) == 2
    for row in (
        "lficam    lficam",
        "lficam    scorecam",
        "abn       abn",
        "baseline  gradcam",
        "baseline  scorecam",
    ):
        assert row in everything, row
    assert "Score-CAM (baseline)       accuracy on these images" in everything
