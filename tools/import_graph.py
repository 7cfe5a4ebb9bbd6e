"""The file-level import graph of core/ and visualizer/: every import (module level and inside functions).

    python tools/import_graph.py            # prints the cycles (none expected) and the function-local imports

An import of ``a.b.c`` is an edge to ``a.b.c`` and to the package ``a.b`` (its ``__init__`` runs first),
except to the importing module's own ancestors, which are already being imported.
"""
import ast
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGES = ("core", "visualizer")
# libraries a function may import locally: optional or heavy, not needed to import the module
OPTIONAL = ("dask", "distributed", "matplotlib", "PIL", "imageio_ffmpeg", "imageio", "threadpoolctl", "selenium",
            "waitress", "tqdm", "kaleido", "mpl_toolkits")


def modules(root=ROOT):
    """{dotted name: path} of every module in the packages."""
    out = {}
    for pkg in PACKAGES:
        for d, dirs, files in os.walk(os.path.join(root, pkg)):
            dirs[:] = [x for x in dirs if x != "__pycache__"]
            for f in files:
                if f.endswith(".py"):
                    rel = os.path.relpath(os.path.join(d, f), root)[:-3].replace(os.sep, ".")
                    out[rel[:-9] if rel.endswith(".__init__") else rel] = os.path.join(d, f)
    return out


def _imports(path, name):
    """[(imported dotted name, line, inside a function)] of one file, relative imports resolved."""
    tree = ast.parse(open(path).read(), path)
    is_pkg = path.endswith("__init__.py")
    found = []

    def visit(node, local):
        for child in ast.iter_child_nodes(node):
            inner = local or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.Import):
                found.extend((a.name, child.lineno, local) for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    pkg = name if is_pkg else name.rsplit(".", 1)[0]
                    for _ in range(child.level - 1):
                        pkg = pkg.rsplit(".", 1)[0]
                    base = f"{pkg}.{base}" if base else pkg
                found.append((base, child.lineno, local))
                found.extend((f"{base}.{a.name}", child.lineno, local) for a in child.names)
            visit(child, inner)
    visit(tree, False)
    return found


def graph(root=ROOT):
    """{module: {imported module}} over the project's own modules, and the function-local imports."""
    mods = modules(root)
    edges, local = {m: set() for m in mods}, []
    for m, path in mods.items():
        ancestors = {".".join(m.split(".")[:i]) for i in range(1, m.count(".") + 1)}
        for target, line, is_local in _imports(path, m):
            top = target.split(".")[0]
            if is_local and top not in PACKAGES and top not in OPTIONAL and top not in sys.stdlib_module_names:
                local.append((m, line, target))
            if top not in PACKAGES:
                continue
            if is_local:
                local.append((m, line, target))
            parts = target.split(".")
            for i in range(1, len(parts) + 1):
                t = ".".join(parts[:i])
                if t in mods and t != m and t not in ancestors:
                    edges[m].add(t)
    return edges, local


def cycles(edges):
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]
    sys.setrecursionlimit(10000)

    def strong(v):
        index[v] = low[v] = counter[0]; counter[0] += 1
        stack.append(v); on.add(v)
        for w in edges[v]:
            if w not in index:
                strong(w); low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop(); on.discard(w); comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))
    for v in edges:
        if v not in index:
            strong(v)
    return out


if __name__ == "__main__":
    edges, local = graph()
    found = cycles(edges)
    for c in found:
        print("cycle:", " <-> ".join(c))
    for m, line, target in local:
        print(f"function-local import of the project: {m}:{line} {target}")
    print(f"{len(edges)} modules, {sum(map(len, edges.values()))} edges, {len(found)} cycles, "
          f"{len(local)} function-local project imports")
    sys.exit(1 if found or local else 0)
