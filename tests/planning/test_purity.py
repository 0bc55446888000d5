"""The planning engine is pure Python (STYLE: "imports no Django")."""

import ast
from pathlib import Path

import salesplan.planning

PACKAGE = Path(salesplan.planning.__file__).parent
FORBIDDEN = ("django", "rest_framework", "celery")


def imported_modules(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
    return modules


def test_planning_imports_no_framework():
    # given every module of the engine
    files = sorted(PACKAGE.glob("*.py"))
    assert len(files) > 5

    # when / then none imports Django, DRF or Celery
    for path in files:
        framework = {m for m in imported_modules(path) if m.split(".")[0] in FORBIDDEN}
        assert not framework, f"{path.name} imports {framework}"
