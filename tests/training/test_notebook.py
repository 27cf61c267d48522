"""notebooks/quickstart.ipynb: stored without outputs, and runs (reduced size)."""

import pathlib
import re

import nbformat
import pytest

NOTEBOOK = (
    pathlib.Path(__file__).resolve().parents[2] / "notebooks" / "quickstart.ipynb"
)


def test_stored_without_outputs():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code
    for cell in code:
        assert cell.outputs == [] and cell.execution_count is None, cell.source[:60]


def _text(cell):
    parts = []
    for output in cell.outputs:
        if output.output_type == "stream":
            parts.append(output.text)
        elif "data" in output and "text/plain" in output.data:
            parts.append(output.data["text/plain"])
    return "\n".join(parts)


@pytest.mark.slow
def test_runs_at_reduced_size(tmp_path, monkeypatch):
    from nbclient import NotebookClient

    monkeypatch.setenv("LFICAM_QUICKSTART_FAST", "1")
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "3")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()
    cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    texts = [_text(cell) for cell in cells]
    everything = "\n".join(texts)
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
