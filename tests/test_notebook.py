"""notebooks/explorer.ipynb runs headless on the venv's kernel without a cell error."""

from __future__ import annotations

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import ROOT


@pytest.mark.slow
def test_explorer_notebook_runs(ztf_catalog_file, monkeypatch):
    monkeypatch.setenv("VSE_CATALOG", str(ztf_catalog_file))  # the kernel inherits the environment
    notebook = nbformat.read(ROOT / "notebooks" / "explorer.ipynb", as_version=4)
    # "python3" is ipykernel's own spec; jupyter_client starts it with this interpreter (sys.executable)
    client = NotebookClient(notebook, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(ROOT / "notebooks")}})
    client.execute()  # raises CellExecutionError, with the cell and traceback, on any cell error
    errors = [output for cell in notebook.cells if cell.cell_type == "code"
              for output in cell.get("outputs", []) if output.get("output_type") == "error"]
    assert errors == []
