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
        if "ui" not in path.relative_to(CRM).parts and "streamlit" in _imports(path)
    ]
    assert offenders == []
    # The check itself must be able to see an import.
    assert "streamlit" in _imports(CRM / "ui" / "data.py")


def test_pages_hold_no_sql() -> None:
    sql = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE)\b.+\b(FROM|INTO|SET)\b", re.S)
    pages = [ROOT / "Home.py", *sorted((ROOT / "app_pages").glob("*.py"))]
    assert pages[0].exists()
    assert len(pages) > 3
    for page in pages:
        assert not sql.search(page.read_text(encoding="utf-8")), page.name
        assert "duckdb" not in _imports(page), page.name


def test_every_page_goes_through_the_entry_point() -> None:
    """Pages live in app_pages/ and are listed in crm.ui.navigation.PAGES.

    A ``pages/`` directory would be served by Streamlit without ``Home.py`` (so
    without the sign-in gate) until a session has run ``st.navigation``.
    """
    from crm.ui import navigation

    assert not (ROOT / "pages").exists(), (
        "Put page files in app_pages/ and list them in crm/ui/navigation.py PAGES: "
        "Streamlit runs a pages/ directory's files without Home.py's sign-in gate."
    )
    files = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "app_pages").glob("*.py"))
    assert sorted(spec.path for spec in navigation.PAGES) == files
    home = (ROOT / "Home.py").read_text(encoding="utf-8")
    assert "navigation.run_app()" in home


# Text that makes an f-string or a .format() template SQL.
_SQL_WORDS = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|CREATE|ALTER|DROP|COPY|ATTACH|PRAGMA)\b")


def _module_constants(tree: ast.Module) -> set[str]:
    """Names assigned at module level in UPPER_CASE (``_ORDER_BY``, ``CARD_COLUMNS``)."""
    names: set[str] = set()
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            if isinstance(target, ast.Name) and target.id.lstrip("_").isupper():
                names.add(target.id)
    return names


# Functions that return SQL text (alone, or first in a tuple) for others to format in: what
# they return is checked like a formatted value, so what they give out can be trusted.
SQL_FRAGMENT_FUNCTIONS = {"segment_where", "segment_conditions", "contactable_where"}


def _local_assignments(function: ast.AST) -> dict[str, list[ast.expr]]:
    """What each local name may hold: its assigned values, tuple parts and appended items."""
    found: dict[str, list[ast.expr]] = {}
    for node in ast.walk(function):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found.setdefault(target.id, []).append(node.value)
                elif isinstance(target, ast.Tuple):
                    for index, part in enumerate(target.elts):
                        if isinstance(part, ast.Name):
                            value = ast.Subscript(node.value, ast.Constant(index))
                            found.setdefault(part.id, []).append(value)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "append"
            and isinstance(node.func.value, ast.Name)
        ):
            found.setdefault(node.func.value.id, []).extend(node.args)
    return found


def _called_name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _trusted(expr: ast.expr, constants: set[str], local: dict[str, list[ast.expr]]) -> bool:
    """Whether ``expr`` can only be text the code itself wrote (never a caller's value)."""
    if isinstance(expr, ast.Constant):
        return isinstance(expr.value, str)
    if isinstance(expr, ast.Name):
        if expr.id in constants:
            return True
        values = local.get(expr.id, [])
        return bool(values) and all(
            _trusted(value, constants, {**local, expr.id: []}) for value in values
        )
    if isinstance(expr, ast.IfExp):
        return _trusted(expr.body, constants, local) and _trusted(expr.orelse, constants, local)
    if isinstance(expr, ast.List | ast.Tuple):
        return all(_trusted(item, constants, local) for item in expr.elts)
    if isinstance(expr, ast.Attribute):
        # Another module's constant: scores.NO_ORDERS.
        return isinstance(expr.value, ast.Name) and expr.attr.lstrip("_").isupper()
    if isinstance(expr, ast.Subscript):
        if isinstance(expr.value, ast.Call):
            # where, params = queries.segment_where(...): the text part of a fragment function.
            return _called_name(expr.value) in SQL_FRAGMENT_FUNCTIONS
        # A lookup in an allow-list: _ORDER_BY[(sort, descending)], or another
        # module's: consent.CONSENT_COLUMNS[channel].
        if isinstance(expr.value, ast.Attribute):
            return isinstance(expr.value.value, ast.Name) and expr.value.attr.lstrip("_").isupper()
        return isinstance(expr.value, ast.Name) and expr.value.id in constants
    if isinstance(expr, ast.Call):
        func = expr.func
        if isinstance(func, ast.Attribute) and func.attr == "join":
            # " AND ".join(clauses): trusted separator, trusted parts.
            return isinstance(func.value, ast.Constant) and all(
                _trusted(arg, constants, local) for arg in expr.args
            )
        return _called_name(expr) in SQL_FRAGMENT_FUNCTIONS
    return False


def _returned_sql(function: ast.FunctionDef) -> list[ast.expr]:
    """The SQL text a fragment function returns (the first item of a returned tuple)."""
    texts: list[ast.expr] = []
    for node in ast.walk(function):
        if isinstance(node, ast.Return) and node.value is not None:
            value = node.value
            texts.append(value.elts[0] if isinstance(value, ast.Tuple) else value)
    return texts


def sql_built_from_outside_values(source: str) -> list[str]:
    """Every value formatted into SQL text that is not a constant or an allow-list entry."""
    tree = ast.parse(source)
    constants = _module_constants(tree)
    problems: list[str] = []
    scopes: list[ast.AST] = [tree, *[n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]]
    for scope in scopes:
        local = _local_assignments(scope) if scope is not tree else {}
        body = scope.body if isinstance(scope, ast.FunctionDef) else tree.body
        for statement in body:
            if scope is tree and isinstance(statement, ast.FunctionDef | ast.ClassDef):
                continue
            for node in ast.walk(statement):
                values: list[ast.expr] = []
                if isinstance(node, ast.JoinedStr):
                    text = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
                    if _SQL_WORDS.search(text):
                        values = [v.value for v in node.values if isinstance(v, ast.FormattedValue)]
                elif (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "format"
                    and isinstance(node.func.value, ast.Constant)
                    and isinstance(node.func.value.value, str)
                    and _SQL_WORDS.search(node.func.value.value)
                ):
                    values = [*node.args, *(k.value for k in node.keywords)]
                problems += [
                    f"line {node.lineno}: {ast.unparse(value)}"
                    for value in values
                    if not _trusted(value, constants, local)
                ]
        if isinstance(scope, ast.FunctionDef) and scope.name in SQL_FRAGMENT_FUNCTIONS:
            problems += [
                f"line {text.lineno}: {scope.name} returns {ast.unparse(text)}"
                for text in _returned_sql(scope)
                if not _trusted(text, constants, local)
            ]
    return problems


def test_sql_check_sees_outside_values() -> None:
    """The check below must be able to fail, including through a variable."""
    bad = (
        "def find(con, name):\n"
        "    sql = f\"SELECT * FROM customers WHERE first_name = '{name}'\"\n"
        "    return con.execute(sql)\n"
        "def sort(con, column):\n"
        "    return con.execute('SELECT id FROM t ORDER BY {}'.format(column))\n"
        "def find_by(con, form):\n"
        "    return con.execute(f'SELECT id FROM t WHERE name = {form.name}')\n"
        "def segment_where(f):\n"
        "    clauses = ['id > $low']\n"
        "    clauses.append(f.search)\n"
        "    return ' AND '.join(clauses), {}\n"
    )
    assert sql_built_from_outside_values(bad) == [
        "line 2: name",
        "line 5: column",
        "line 7: form.name",
        "line 11: segment_where returns ' AND '.join(clauses)",
    ]
    good = (
        "_ORDER = {'a': 'id'}\n"
        "_JOINS = {'a': 'id IN (SELECT id FROM u)'}\n"
        "def segment_where(key):\n"
        "    clauses = [WHERE]\n"
        "    clauses.append(_JOINS[key])\n"
        "    return ' AND '.join(clauses), {}\n"
        "WHERE = 'id > $low'\n"
        "def page(con, key, fast):\n"
        "    order = _ORDER[key]\n"
        "    keep = 'MATERIALIZED' if fast else scores.NOT_MATERIALIZED\n"
        "    where, params = segment_where(key)\n"
        "    sql = f'WITH m AS {keep} (SELECT id FROM t WHERE {WHERE} AND {where}) ORDER BY {order}'\n"  # noqa: E501
        "    return con.execute(sql)\n"
    )
    assert sql_built_from_outside_values(good) == []


def test_no_sql_is_built_from_outside_values() -> None:
    """Only constants and allow-list entries may be formatted into SQL text."""
    checked = 0
    for path in sorted(CRM.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        assert sql_built_from_outside_values(source) == [], path
        checked += 1
    assert checked > 10
