"""Shared by the notebook tests: read a notebook of `notebooks/`, check it is
stored clean, execute it in a kernel and collect the text it printed."""

import pathlib

import nbformat

NOTEBOOKS = pathlib.Path(__file__).resolve().parents[1] / "notebooks"


def stored_code_cells(name):
    """The code cells of `notebooks/<name>`, after checking the file is a
    valid notebook stored without outputs or execution counts."""
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code
    for cell in code:
        assert cell.outputs == [] and cell.execution_count is None, cell.source[:60]
    return code


def execute(name, tmp_path, monkeypatch, fast_env, timeout, fast=True):
    """Run `notebooks/<name>` in `tmp_path` with `fast_env=1` set; with
    `fast=False` as a user runs it: `fast_env` unset, in `notebooks/` (where
    the notebooks look for `../shared/data`), `tmp_path` unused.

    Returns:
        `(cells, text)`: the executed code cells and everything they printed
        (streams and plain-text results), joined.
    """
    from nbclient import NotebookClient

    if fast:
        monkeypatch.setenv(fast_env, "1")
    else:
        monkeypatch.delenv(fast_env, raising=False)
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "3")
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path if fast else NOTEBOOKS)}},
    ).execute()
    cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    return cells, "\n".join(_text(cell) for cell in cells)


def _text(cell):
    parts = []
    for output in cell.outputs:
        if output.output_type == "stream":
            parts.append(output.text)
        elif "data" in output and "text/plain" in output.data:
            parts.append(output.data["text/plain"])
    return "\n".join(parts)
