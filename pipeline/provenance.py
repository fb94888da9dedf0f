"""What a run was made with: the code's git commit and the versions of the packages that shape results.

Recorded in every run's config.json so a figure can be traced to the code and libraries behind it.
"""

from __future__ import annotations

import platform
import subprocess
from importlib import metadata
from pathlib import Path

#: Packages whose versions can change a run's numbers.
PACKAGES = ("variable-star-explorer", "numpy", "pandas", "scikit-learn", "torch", "numba", "astropy")


def git_commit() -> str:
    """The commit of the checkout this package runs from, ``+dirty`` with local changes; else ``unknown``."""
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                                timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=5, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{commit}+dirty" if dirty else commit or "unknown"


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def provenance() -> dict:
    return {"git_commit": git_commit(), "packages": package_versions()}
