"""The package's layers: every module imports only from its own layer or the ones below,
and no two modules import each other (directly or round a longer loop). Read from the
source (ast), imports inside functions included."""

import ast
import os

import purejaxdqn

ROOT = os.path.dirname(purejaxdqn.__file__)
# bottom to top; a name is a top-level module or sub-package of purejaxdqn
LAYERS = ["settings", "registry", "components", "replay", "config", "presets", "envs", "learner",
          "parts", "seed_axis", "agent", "evaluation", "engines", "run", "tools"]
OUTSIDE_LAYERS = {"__init__", "__main__"}  # the package's front door: the version, the CLI


def _modules() -> dict[str, str]:
    found = {}
    for folder, _, files in os.walk(ROOT):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                rel = os.path.relpath(path, ROOT)[:-3].replace(os.sep, ".")
                found["purejaxdqn." + rel.removesuffix(".__init__")] = path
    return found


def _imports(path: str, modules: dict[str, str]) -> set[str]:
    """The package's modules that `path` imports."""
    out = set()
    for node in ast.walk(ast.parse(open(path).read())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name in modules}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                if sub in modules:
                    out.add(sub)
                elif node.module in modules:
                    out.add(node.module)
    return out


def _layer(module: str) -> str:
    return module.split(".")[1] if module.count(".") else "__init__"


def test_every_module_has_a_layer_and_imports_only_downward():
    modules = _modules()
    upward = []
    for module, path in modules.items():
        layer = _layer(module)
        if layer in OUTSIDE_LAYERS:
            continue
        assert layer in LAYERS, f"{module} is in no layer: add it to LAYERS"
        for imported in _imports(path, modules):
            if _layer(imported) in LAYERS and LAYERS.index(_layer(imported)) > LAYERS.index(layer):
                upward.append(f"{module} imports {imported}")
    assert not upward, upward


def test_no_import_cycle():
    modules = _modules()
    graph = {m: _imports(p, modules) - {m} for m, p in modules.items()}
    state, cycles = {}, []

    def visit(m, stack):
        state[m] = "open"
        for n in sorted(graph[m]):
            if state.get(n) == "open":
                cycles.append(" -> ".join(stack[stack.index(n):] + [n]))
            elif n not in state:
                visit(n, stack + [n])
        state[m] = "done"

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    assert not cycles, cycles


MAX_FUNCTION_LINES = 60  # a function a reader takes in at once (the developers' guide)


def test_no_function_over_60_lines():
    long = []
    for module, path in _modules().items():
        for node in ast.walk(ast.parse(open(path).read())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{module}.{node.name}: {lines} lines")
    assert not long, long
