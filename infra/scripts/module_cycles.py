#!/usr/bin/env python3
"""Fails when modules of a crate import each other in a cycle.

Builds the graph of `use crate::…` / `super::…` / `crate::…` references between the modules of
each crate under `src/` (a module = one file; `mod.rs` is its folder's module; `foo_tests.rs`
test modules are left out, since a test may reach anywhere), and the same graph collapsed to
top-level modules (the layers), and reports each strongly connected component with more than
one member. Crates are named on the command line (default: core and service). Run by `make test`.
"""
import pathlib
import re
import sys

USE = re.compile(r"\b(crate|super)((?:::\w+)+)")


def module_path(src: pathlib.Path, file: pathlib.Path) -> tuple:
    parts = list(file.relative_to(src).with_suffix("").parts)
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return tuple(parts)


def strip_tests(text: str) -> str:
    """Drops `#[cfg(test)] mod tests { … }` blocks: tests may reach anywhere."""
    out, i = [], 0
    for m in re.finditer(r"#\[cfg\(test\)\]\s*(?:pub(?:\(\w+\))?\s+)?mod\s+\w+\s*\{", text):
        if m.start() < i:
            continue
        out.append(text[i:m.start()])
        depth, j = 1, m.end()
        while depth and j < len(text):
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            j += 1
        i = j
    out.append(text[i:])
    return "".join(out)


def expand(tree: str) -> list:
    """`a::{b, c::{d, e}}` -> ["a::b", "a::c::d", "a::c::e"]."""
    tree = tree.strip()
    if "{" not in tree:
        return [tree] if tree else []
    head, inner = tree.split("{", 1)
    inner = inner.rsplit("}", 1)[0]
    items, depth, cur = [], 0, ""
    for ch in inner:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            items.append(cur)
            cur = ""
        else:
            cur += ch
    items.append(cur)
    return [head + p for item in items for p in expand(item)]


def references(text: str) -> list:
    """Every `crate::…`/`super::…` path in `use` trees and in expressions."""
    refs = []
    for m in re.finditer(r"\buse\s+((?:crate|super)::[^;]*);", text, re.S):
        refs += [re.sub(r"\s+as\s+\w+$", "", p.strip()) for p in expand(re.sub(r"\s+", "", m.group(1)))]
    text = re.sub(r"\buse\s+(?:crate|super)::[^;]*;", "", text, flags=re.S)
    refs += [root + rest for root, rest in USE.findall(text)]
    return refs


def edges_of(src: pathlib.Path, modules: set) -> dict:
    graph = {m: set() for m in modules}
    for file in src.rglob("*.rs"):
        me = module_path(src, file)
        if me not in modules:
            continue
        text = strip_tests(re.sub(r"//.*", "", file.read_text()))
        for ref in references(text):
            names = ref.split("::")
            base = ()
            while names and names[0] in ("crate", "super", "self"):
                root = names.pop(0)
                base = () if root == "crate" else (base or me)[:-1] if root == "super" else (base or me)
            # The longest prefix that is a module is what this path depends on.
            target = next((base + tuple(names[:n]) for n in range(len(names), 0, -1)
                           if base + tuple(names[:n]) in modules), None)
            if target and target != me and not is_ancestor(target, me) and not is_ancestor(me, target):
                graph[me].add(target)
    return graph


def is_ancestor(a: tuple, b: tuple) -> bool:
    return len(a) < len(b) and b[: len(a)] == a


def sccs(graph: dict) -> list:
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(comp)

    sys.setrecursionlimit(10000)
    for v in graph:
        if v not in index:
            visit(v)
    return [c for c in out if len(c) > 1]


def main() -> int:
    crates = sys.argv[1:] or ["core", "service"]
    bad = 0
    for crate in crates:
        src = pathlib.Path(crate) / "src"
        modules = {
            module_path(src, f)
            for f in src.rglob("*.rs")
            if not f.stem.endswith("_tests") and f.stem != "tests"
        }
        graph = edges_of(src, modules)
        # The same graph between top-level modules (layers): `domain` may not need `pipeline`
        # while `pipeline` needs `domain`.
        layers = {}
        for m, targets in graph.items():
            if m:
                layers.setdefault(m[:1], set()).update(t[:1] for t in targets if t and t[:1] != m[:1])
        for level, g in (("modules", graph), ("top-level modules", layers)):
            n_edges = sum(len(v) for v in g.values())
            cycles = sccs(g)
            for comp in cycles:
                bad += 1
                names = sorted("::".join(m) for m in comp)
                print(f"{crate}: {level} import each other in a cycle: {', '.join(names)}")
            print(f"{crate}: {len(g)} {level}, {n_edges} imports between them, {len(cycles)} cycles")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
