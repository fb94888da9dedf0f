"""environment.yml (conda) and pyproject.toml list the same runtime dependencies."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONDA_NAMES = {"pytorch": "torch"}  # conda-forge name -> PyPI name


def names(requirements):
    return {re.split(r"[<>=!~ \[]", r.strip(), maxsplit=1)[0].lower().replace("_", "-") for r in requirements}


def conda_runtime_dependencies():
    text = (ROOT / "environment.yml").read_text().split("dependencies:", 1)[1]
    deps = set()
    for line in text.splitlines():
        item = re.match(r"^(\s*)- (.+)$", line)
        if not item:
            continue
        spec = item.group(2).split("#")[0].strip()
        if spec == "pip:" or spec.startswith("-e "):
            continue
        name = names([spec]).pop()
        if name not in {"python", "pip"}:
            deps.add(CONDA_NAMES.get(name, name))
    return deps


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert conda_runtime_dependencies() == names(project["dependencies"])
