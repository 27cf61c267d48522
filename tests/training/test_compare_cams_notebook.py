"""notebooks/compare_cams.ipynb: stored without outputs, and runs in test mode
(LFICAM_COMPARE_FAST=1: untrained models on generated images instead of the
shipped checkpoints on CIFAR-10)."""

import pathlib

import nbformat
import pytest

NOTEBOOK = (
    pathlib.Path(__file__).resolve().parents[2] / "notebooks" / "compare_cams.ipynb"
)


def test_stored_without_outputs():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code
    for cell in code:
        assert cell.outputs == [] and cell.execution_count is None, cell.source[:60]
    # Outside test mode it loads the shipped checkpoints.
    assert 'weights = None if FAST else "cifar10"' in "\n".join(c.source for c in code)


def _text(cell):
    parts = []
    for output in cell.outputs:
        if output.output_type == "stream":
            parts.append(output.text)
        elif "data" in output and "text/plain" in output.data:
            parts.append(output.data["text/plain"])
    return "\n".join(parts)


@pytest.mark.slow
def test_runs_in_test_mode(tmp_path, monkeypatch):
    from nbclient import NotebookClient

    monkeypatch.setenv("LFICAM_COMPARE_FAST", "1")
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "3")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()
    cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    everything = "\n".join(_text(cell) for cell in cells)
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
