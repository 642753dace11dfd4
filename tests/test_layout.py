"""The layout holds (docs/ARCHITECTURE.md): packages import only those below them, nothing imports upwards,
there is no import cycle (type-only imports under `TYPE_CHECKING` included), `bot/` has no top-level
module but the package faces, the launcher, the bot class and the settings, and no module is over 400 lines."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Each unit of the bot and the units it may import. A package imports only those of a lower layer.
LAYERS: dict[str, int] = {
    "bot.runtime": -1,  # the base: supervision, retries, the event loop, JSON; it imports nothing of the bot
    "bot.events": 0,
    "bot.kgsm": 0,
    "bot": 0,  # the package face: only the version
    "bot.config": 1,
    "bot.store": 2,
    "bot.render": 3,
    "bot.delivery": 4,
    "bot.sources": 4,
    "bot.web": 5,
    "bot.app": 5,
    "bot.relay": 5,  # python -m bot relay: the journal followers of bot.sources, forwarding to a central bot
    "bot.bot": 6,
    "bot.__main__": 7,
    "cogs": 8,
}
TOP_LEVEL = {"__init__.py", "__main__.py", "bot.py"}  # and the settings: the package bot/config/
MAX_LINES = 400


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def unit_of(module: str) -> str:
    """The layer unit a module belongs to: the longest key of LAYERS it is in."""
    candidates = [unit for unit in LAYERS if module == unit or module.startswith(unit + ".")]
    return max(candidates, key=len)


def sources() -> dict[str, Path]:
    return {module_name(path): path for folder in ("bot", "cogs") for path in (ROOT / folder).rglob("*.py")}


def imports_of(path: Path, module: str) -> set[str]:
    """Every bot or cogs module `path` imports, at run time or for type checking only."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    known = sources()
    return {name for name in found if name in known and name != module}


def graph() -> dict[str, set[str]]:
    return {module: imports_of(path, module) for module, path in sources().items()}


def upward_imports(edges: dict[str, set[str]]) -> list[str]:
    wrong = []
    for module, imported in edges.items():
        unit = unit_of(module)
        for target in sorted(imported):
            target_unit = unit_of(target)
            if target_unit != unit and LAYERS[target_unit] >= LAYERS[unit]:
                wrong.append(f"{module} imports {target} ({target_unit} is not below {unit})")
    return wrong


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    state: dict[str, int] = defaultdict(int)  # 0 new, 1 on the path, 2 done
    found: list[list[str]] = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(edges.get(module, ())):
            if state[target] == 1:
                found.append([*path[path.index(target) :], target])
            elif state[target] == 0:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(edges):
        if state[module] == 0:
            visit(module, [module])
    return found


def test_no_module_imports_a_package_above_its_own() -> None:
    assert upward_imports(graph()) == []


def test_there_is_no_import_cycle_type_only_ones_included() -> None:
    assert cycles(graph()) == []


def test_bot_has_only_the_package_faces_the_launcher_the_bot_class_and_the_settings_at_its_top() -> None:
    loose = {path.name for path in (ROOT / "bot").glob("*.py")} - TOP_LEVEL
    assert loose == set()


def test_no_module_is_over_400_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): lines
        for path in sources().values()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_every_package_face_says_what_it_owns_and_may_import() -> None:
    for face in (ROOT / "bot").glob("*/__init__.py"):
        docstring = ast.get_docstring(ast.parse(face.read_text(encoding="utf-8"))) or ""
        if face.parent.name in ("migrations",):
            continue
        assert "Owns:" in docstring, face
        assert "May import:" in docstring, face


def test_the_checks_find_an_upward_import_and_a_cycle() -> None:
    """Proof that the two checks above can fail: a made-up graph with both faults."""
    edges = {
        "bot.store.database": {"bot.delivery.lanes"},  # the store reaching up into delivery
        "bot.delivery.lanes": {"bot.delivery.outbox"},
        "bot.delivery.outbox": {"bot.delivery.lanes"},  # a cycle inside one package
    }
    assert upward_imports(edges) == [
        "bot.store.database imports bot.delivery.lanes (bot.delivery is not below bot.store)"
    ]
    assert cycles(edges) == [["bot.delivery.lanes", "bot.delivery.outbox", "bot.delivery.lanes"]]
