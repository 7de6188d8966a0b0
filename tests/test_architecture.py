"""The data layer knows nothing of Streamlit; SQL never formats user input."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CRM = ROOT / "crm"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_only_the_ui_package_imports_streamlit() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in CRM.rglob("*.py")
        if "ui" not in path.relative_to(CRM).parts and {"streamlit", "st_aggrid"} & _imports(path)
    ]
    assert offenders == []
    # The check itself must be able to see an import.
    assert "streamlit" in _imports(CRM / "ui" / "data.py")


def test_pages_hold_no_sql() -> None:
    sql = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE)\b.+\b(FROM|INTO|SET)\b", re.S)
    pages = [ROOT / "Home.py", *sorted((ROOT / "pages").glob("*.py"))]
    assert pages[0].exists()
    for page in pages:
        assert not sql.search(page.read_text(encoding="utf-8")), page.name
        assert "duckdb" not in _imports(page), page.name


def test_no_sql_is_built_from_fstrings_with_outside_values() -> None:
    """Only names from a module-level constant may be formatted into SQL text."""
    pattern = re.compile(r"execute\(\s*f[\"']")
    for path in CRM.rglob("*.py"):
        assert not pattern.search(path.read_text(encoding="utf-8")), path
