"""No SQL is built from strings: every statement storage/ runs is a constant, values are bound.

Two guards: ruff's S608 (enabled for the whole code base in pyproject.toml), and this scan of
the syntax tree, which also catches what S608 misses (statements built into a variable first,
`+`, `%` and `.format`, and SQL outside storage/).
"""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUNNERS = {"execute", "executemany", "executescript"}
# PRAGMAs take no bound parameters, so these two are formatted, from typed values only.
ALLOWED = {
    ("storage/database.py", "PRAGMA synchronous = "),  # a Literal["OFF", "NORMAL", "FULL", "EXTRA"]
    ("storage/migrate.py", "PRAGMA user_version = "),  # an int, formatted with :d
}


def python_files(*folders: str) -> list[Path]:
    return sorted(path for folder in folders for path in (ROOT / folder).rglob("*.py"))


class Assignments(ast.NodeVisitor):
    """Every value assigned to each plain name in a module (any scope)."""

    def __init__(self) -> None:
        self.values: dict[str, list[ast.expr]] = {}

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            if isinstance(target, ast.Name):
                self.values.setdefault(target.id, []).append(node.value)
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if isinstance(node.target, ast.Name) and node.value is not None:
            self.values.setdefault(node.target.id, []).append(node.value)
        self.generic_visit(node)


def constant(node: ast.expr, names: dict[str, list[ast.expr]], seen: frozenset[str] = frozenset()) -> bool:
    """A string fixed when the code is written: literals, and `+` of literals or constant names."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return constant(node.left, names, seen) and constant(node.right, names, seen)
    if isinstance(node, ast.Name) and node.id not in seen and names.get(node.id):
        return all(constant(value, names, seen | {node.id}) for value in names[node.id])
    return False


def built_from_strings(
    node: ast.expr, names: dict[str, list[ast.expr]], seen: frozenset[str] = frozenset()
) -> bool:
    """Whether an SQL argument is assembled at run time rather than written as a constant."""
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(part, ast.FormattedValue) for part in node.values)
    if isinstance(node, ast.BinOp):
        return not constant(node, names, seen)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return node.func.attr in {"format", "join", "replace"}
    if isinstance(node, ast.Name) and node.id not in seen:
        return any(built_from_strings(value, names, seen | {node.id}) for value in names.get(node.id, []))
    if isinstance(node, ast.Subscript):  # e.g. a dict of constant statements
        return built_from_strings(node.value, names, seen)
    if isinstance(node, ast.Dict):
        return any(value is not None and built_from_strings(value, names, seen) for value in node.values)
    if isinstance(node, ast.Tuple | ast.List):
        return any(built_from_strings(item, names, seen) for item in node.elts)
    return False


def sql_calls(path: Path) -> list[tuple[int, ast.expr]]:
    tree = ast.parse(path.read_text("utf-8"), filename=str(path))
    return [
        (node.lineno, node.args[0])
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in RUNNERS
        and node.args
    ]


def allowed(relative: str, sql: ast.expr) -> bool:
    if not isinstance(sql, ast.JoinedStr) or not sql.values:
        return False
    head = sql.values[0]
    prefix = head.value if isinstance(head, ast.Constant) else ""
    return (relative, prefix) in ALLOWED


def test_storage_runs_only_constant_sql():
    found = []
    for path in python_files("storage"):
        collector = Assignments()
        collector.visit(ast.parse(path.read_text("utf-8")))
        relative = path.relative_to(ROOT).as_posix()
        for line, sql in sql_calls(path):
            if built_from_strings(sql, collector.values) and not allowed(relative, sql):
                found.append(f"{relative}:{line}: {ast.unparse(sql)[:80]}")
    assert not found, "SQL built from strings (bind values with ? instead):\n" + "\n".join(found)


def test_the_scan_catches_each_way_of_building_sql():
    source = """
TABLE = "entries"
QUERY = "SELECT * FROM " + TABLE + " WHERE id = %s" % user
def f(conn, name):
    conn.execute(f"SELECT * FROM accounts WHERE code = '{name}'")
    conn.execute("SELECT * FROM accounts WHERE code = '%s'" % name)
    conn.execute("SELECT * FROM accounts WHERE code = '{}'".format(name))
    conn.execute("SELECT * FROM accounts WHERE code = '" + name + "'")
    conn.executemany(QUERY, [])
    statement = f"DELETE FROM {name}"
    conn.execute(statement)
    conn.execute("SELECT * FROM accounts " "WHERE code = ?", (name,))
    conn.execute("SELECT 1 " + "FROM accounts")
"""
    tree = ast.parse(source)
    collector = Assignments()
    collector.visit(tree)
    calls = [
        node.args[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in RUNNERS
    ]
    verdicts = [built_from_strings(sql, collector.values) for sql in sorted(calls, key=lambda n: n.lineno)]
    assert verdicts == [True, True, True, True, True, True, False, False]


def test_no_sql_runs_outside_storage():
    """All SQL lives in storage/: the bot and the cogs call Storage instead."""
    found = [
        f"{path.relative_to(ROOT).as_posix()}:{line}"
        for path in python_files("bot", "cogs")
        for line, _ in sql_calls(path)
    ]
    assert not found, found


def test_ruff_s608_guards_the_whole_code_base():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["ruff"]["lint"]
    assert "S608" in config["select"] or "S" in config["select"]
    ignored = {pattern for pattern, rules in config.get("per-file-ignores", {}).items() if "S608" in rules}
    assert ignored <= {"tests/**"}  # test fixtures may name tables; shipped code never
    ruff = Path(sys.executable).with_name("ruff")
    done = subprocess.run(
        [str(ruff), "check", "--no-cache", "--select", "S608", "bot", "cogs", "storage", "demo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
