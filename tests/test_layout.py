"""The tree reads as the data flow: no first-party module imports one that imports it back (also through others,
also inside a function), no source file is longer than the tree's limit, and no test module imports another."""

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("api", "cli", "evals", "index", "ingest", "llm", "prompts", "rag", "settings", "stories", "ui")
TOP_MODULES = ("app", "errors")
LONGEST = 400  # lines a source file may have (the tree's rule: small modules with one job)


def sources() -> dict[str, Path]:
    """Every first-party module by dotted name."""
    out = {name: REPO / f"{name}.py" for name in TOP_MODULES}
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            parts = path.relative_to(REPO).with_suffix("").parts
            out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def imports(path: Path, known: set[str]) -> set[str]:
    """The first-party modules a file imports, anywhere in it."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name:
                found.add(name)
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    index, low, stack, on_stack, groups, counter = {}, {}, [], set(), [], [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in graph:
        if node not in index:
            visit(node)
    return groups


def test_no_import_cycle():
    modules = sources()
    graph = {name: imports(path, set(modules)) - {name} for name, path in modules.items()}
    # a package imports its own modules in its __init__ only to name them; modules importing their package's
    # __init__ for a shared name are no cycle of the data flow
    for name in graph:
        graph[name] = {other for other in graph[name] if not name.startswith(other + ".")}
    assert cycles(graph) == []


def test_no_source_file_is_too_long():
    files = [*sources().values(), *(REPO / "scripts").glob("*.py")]
    long = {str(path.relative_to(REPO)): n for path in files
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > LONGEST}
    assert long == {}


TEST_MODULE = re.compile(r"^tests(\.\w+)*\.(test_\w+|conftest)$")  # tests.test_x, tests.a.test_x, tests.a.conftest


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, anywhere in it, by absolute dotted name (``from a import b``: a and a.b)."""
    package = ".".join(path.relative_to(REPO).with_suffix("").parts[:-1])
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[:len(package.split(".")) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def test_no_test_module_imports_another():
    """Helpers shared by tests are in tests/helpers.py (or a helper module such as tests/rag/llm_stub.py), fixtures
    in the conftest.py files: no file under tests/ imports a test module or a conftest (pytest loads those itself)."""
    offenders = {str(path.relative_to(REPO)): sorted(m for m in imported_modules(path) if TEST_MODULE.match(m))
                 for path in sorted((REPO / "tests").rglob("*.py"))}
    assert {path: modules for path, modules in offenders.items() if modules} == {}


def test_every_package_is_installed():
    """A wheel holds only the packages pyproject lists: a sub-package missing there imports in the source tree and
    fails once installed."""
    import tomllib

    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"])
    on_disk = {".".join(path.parent.relative_to(REPO).parts) for package in PACKAGES
               for path in (REPO / package).rglob("__init__.py")}
    assert on_disk == listed
