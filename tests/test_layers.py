"""Imports run one way (README, "Layout"): the contracts in pyproject.toml hold, a kernel
module importing an app breaks them, and the planning engine loads no framework."""

import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

PACKAGES = ("salesplan", "funnel", "metrics", "responsibility")
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_the_layer_contracts_hold():
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "0 broken" in result.stdout


def test_a_kernel_module_importing_an_app_breaks_the_layers(tmp_path):
    # given a copy of the code in which the kernel's access module imports the funnel app
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    access = tmp_path / "salesplan" / "access.py"
    access.write_text(access.read_text(encoding="utf-8") + "\nimport funnel.models\n")
    # when the contracts are checked
    result = _lint_imports(tmp_path)
    # then the layers contract is broken, and says where
    assert result.returncode != 0
    assert "salesplan.access is not allowed to import funnel" in result.stdout


def test_importing_the_engine_loads_no_framework():
    # given a fresh interpreter; when it imports the planning engine (and its package)
    code = (
        "import sys, salesplan.planning; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'django', 'celery', 'kombu', "
        "'rest_framework', 'funnel', 'metrics', 'responsibility'}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    # then none of Django, Celery, DRF or the apps was loaded
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
