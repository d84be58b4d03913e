"""The tests and the benchmarks do not import each other: what both need lives in testkit/.

Every .py file under tests/ and benchmarks/ is parsed (ast, nothing is imported or run) and each import
statement, at any depth (function-local imports included), is checked: a tests module may not import
`benchmarks`, a benchmarks module may not import `tests`.
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {"tests": "benchmarks", "benchmarks": "tests"}  # folder -> top-level package its modules may not import


def imported_modules(tree: ast.Module) -> list[tuple[int, str]]:
    """(line, module) of every absolute import in the tree; `from . import x` (relative) is skipped."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def forbidden_imports(root: Path) -> list[str]:
    """`file:line imports module` for every import across the tests/benchmarks line under `root`."""
    offences = []
    for folder, forbidden in FORBIDDEN.items():
        for path in sorted((root / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            offences += [f"{path.relative_to(root)}:{line} imports {module}"
                         for line, module in imported_modules(tree)
                         if module == forbidden or module.startswith(forbidden + ".")]
    return offences


def test_tests_and_benchmarks_do_not_import_each_other():
    offences = forbidden_imports(ROOT)
    assert not offences, ("tests/ and benchmarks/ import each other (move what both need to testkit/):\n"
                          + "\n".join(offences))


def test_the_check_finds_imports_at_any_depth(tmp_path):
    (tmp_path / "tests").mkdir()
    (tmp_path / "benchmarks").mkdir()
    (tmp_path / "tests" / "test_x.py").write_text("import os\nfrom benchmarks.kill_trials import Setup\n")
    (tmp_path / "tests" / "helper.py").write_text("import testkit\nimport tests_extra\nfrom testkit import records\n")
    (tmp_path / "benchmarks" / "bench.py").write_text(
        "import sys\n\ndef seed():\n    import tests.faults as faults\n    from tests import conftest\n")
    assert forbidden_imports(tmp_path) == [
        "tests/test_x.py:2 imports benchmarks.kill_trials",
        "benchmarks/bench.py:4 imports tests.faults",
        "benchmarks/bench.py:5 imports tests",
    ]
