"""Each room holds what its name says, and the house has no arrow running back up: a
package imports only the floors below it, and SQL lives in store/ alone."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# From the ground up; a room may import any room on a lower floor, none on its own or above
# (rooms on one floor do not import each other: the two doors, the three entry points).
FLOORS: list[set[str]] = [
    {"domain"},  # pure rules
    {"store"},  # all the SQL
    {"infra"},  # settings, connections, codec, launchers
    {"notify"},  # how a notice leaves
    {"activities"},  # Temporal's adapters
    {"workflows"},
    {"app"},  # the application layer
    {"pages"},
    {"cli", "api"},  # the doors (the API serves the pages too)
    {"worker"},
    {"stack", "starter", "bench"},  # what starts it all, and what measures it
]
FLOOR = {room: level for level, rooms in enumerate(FLOORS) for room in rooms}
_SQL = re.compile(
    r"\b(SELECT\s.+\sFROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|COPY\s+\w+|"
    r"CREATE\s+(TABLE|INDEX|ROLE|DATABASE)|ALTER\s+TABLE|TRUNCATE)\b|\bSELECT\s+1\b",
    re.DOTALL,  # as this code writes SQL: in capitals
)
_QUERIES = {"fetch", "fetchrow", "fetchval", "execute", "executemany", "copy_records_to_table"}


def _room(path: Path) -> str | None:
    first = path.relative_to(ROOT).parts[0]
    name = first.removesuffix(".py")
    return name if name in FLOOR else None


def _sources() -> list[Path]:
    found = [
        p
        for p in ROOT.glob("**/*.py")
        if ".venv" not in p.parts and "tests" not in p.relative_to(ROOT).parts[:1]
    ]
    return [p for p in found if _room(p) is not None]


def _imported(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_the_floors_name_every_room() -> None:
    assert {_room(p) for p in _sources()} == set(FLOOR)


def test_no_arrow_runs_back_up() -> None:
    upward = []
    for path in _sources():
        room = _room(path)
        assert room is not None
        for other in _imported(ast.parse(path.read_text())) & set(FLOOR):
            if other != room and FLOOR[other] >= FLOOR[room]:
                upward.append(f"{path.relative_to(ROOT)} imports {other}")
    assert upward == []


@pytest.mark.parametrize("room", sorted(set(FLOOR) - {"store", "bench"}))
def test_sql_lives_in_store_alone(room: str) -> None:
    """Statements and the driver's query calls, anywhere but store/ (bench/ measures raw
    PostgreSQL beside the service on purpose)."""
    found = []
    for path in (p for p in _sources() if _room(p) == room):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if _SQL.search(node.value):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.value[:40]!r}")
            elif isinstance(node, ast.Attribute) and node.attr in _QUERIES:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} .{node.attr}(")
    assert found == []
