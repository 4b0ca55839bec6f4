"""The package's imports: no circle between modules, and none against the data flow
ingest -> index -> answer -> core -> web / cli / evaluation (README: the developer guide).

Every import counts, also one inside a function (a lazy import is still a dependency); only
imports under `if TYPE_CHECKING:` are left out (they never run). Read with `ast`, nothing
is imported."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "assistant"

BASE = {"config", "files", "normalise"}  # under every layer: any module may import them
# What each part of the package may import besides itself and BASE, following the data flow.
ALLOWED: dict[str, set[str]] = {
    "config": set(), "files": set(), "normalise": set(),
    "environment": set(),  # the edge's reader of the environment: config only
    "ingest": set(),
    "models": set(),
    "index": {"ingest", "models"},
    "answer": {"ingest", "models", "index"},
    "core": {"ingest", "models", "index", "answer"},
    "web": {"ingest", "models", "index", "answer", "core"},
    "evaluation": {"ingest", "models", "index", "answer", "core"},
    "warm": {"ingest", "models", "index", "answer", "core", "environment"},
    "cli": {"ingest", "models", "index", "answer", "core", "environment", "web", "evaluation", "warm"},
    "__init__": {"answer", "core"},
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking_only(node: ast.AST, parents: dict) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return True
    return False


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """The package's modules that `path` imports (resolved, relative or absolute)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    here = module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if _type_checking_only(node, parents):
            continue
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            # `from . import store` imports the module store; `from .store import X`, the module .store
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
        else:
            continue
        for name in names:
            while name and name not in modules:  # `from .x import y`: y may be a name, not a module
                name = name.rpartition(".")[0]
            if name and name != here:
                found.add(name)
    return found


def graph() -> dict[str, set[str]]:
    paths = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    modules = set(paths)
    return {name: imports_of(path, modules) for name, path in paths.items()}


def part(module: str) -> str:
    """The part of the package a module belongs to: `index` for assistant.index.store."""
    parts = module.split(".")
    return "__init__" if len(parts) == 1 else parts[1]


def test_no_module_imports_against_the_data_flow():
    wrong = sorted(f"{name} imports {target}" for name, targets in graph().items() for target in targets
                   if part(target) != part(name) and part(target) not in BASE | ALLOWED[part(name)])
    assert wrong == []


def test_no_import_circle():
    edges = {name: {t for t in targets if t != "assistant"} for name, targets in graph().items()}
    circles, state = [], {}

    def visit(node: str, path: list[str]) -> None:  # depth-first; a grey node met again closes a circle
        state[node] = "grey"
        for target in sorted(edges.get(node, ())):
            if state.get(target) == "grey":
                circles.append(" -> ".join(path[path.index(target):] + [target]))
            elif target not in state:
                visit(target, path + [target])
        state[node] = "black"

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    assert circles == []


def test_the_checks_see_imports():
    """Guards the two tests above against passing because they find nothing."""
    g = graph()
    assert "assistant.index.store" in g["assistant.index.indexer"]  # `from . import store`
    assert "assistant.index.milvus_index" in g["assistant.index.vector_stores"]  # inside a function
    assert "assistant.normalise" in g["assistant.answer.selection"]
    assert "assistant.config" not in g["assistant.index.vector_stores"]  # only under TYPE_CHECKING there
    assert "assistant.warm" in g["assistant.cli"] and "assistant" not in g["assistant.cli"]
    assert part("assistant.web.handlers") == "web" and part("assistant") == "__init__"


HEAVY = ("torch", "gradio", "faiss", "sentence_transformers", "transformers")
# What the command line does before it needs a model: --help, a question refused before loading,
# a missing sources folder, and the warm client's whole path (no server listens: it gets None).
CLIENT_PATH = """
import sys
from pathlib import Path
from assistant import cli, warm
from assistant.config import Settings
for argv in (["--help"], ["ask", "--help"], ["chat", "--help"], ["ask", "   "],
             ["ask", "Vodacom", "--sources", sys.argv[1] + "/missing"]):
    try:
        cli.main(argv)
    except SystemExit:
        pass
settings = Settings().with_paths(sys.argv[1], sys.argv[1] + "/index")
assert warm.ask(settings, "Wie viele Kunden hat Vodacom?", None, start_server=False) is None
print("heavy:", ",".join(m for m in HEAVY if m in sys.modules))
"""


def test_the_command_line_imports_nothing_heavy_before_it_needs_a_model(tmp_path):
    """`assistant --help` and a warm `ask` must start in a fraction of a second: torch alone takes
    1-2 s to import (issue 27, item 12). Run in a fresh interpreter, so nothing is imported yet."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "ASSISTANT_CACHE_DIR": str(tmp_path / "cache"), "ASSISTANT_WARM": "1"}
    script = f"HEAVY = {HEAVY!r}\n" + CLIENT_PATH
    result = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True,
                            env=env, cwd=PACKAGE.parent, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "heavy:", result.stdout[-300:]
