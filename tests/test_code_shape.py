"""Every function in core/ and algorithms/ stays short and takes few positional parameters.

Long functions are split into named steps; many settings travel as one keyword-only
settings object. The limits are the project's (docs/DESIGN.md).
"""
from __future__ import annotations

import ast
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHECKED_PACKAGES = ("core", "algorithms")
MAX_LINES = 60
MAX_POSITIONAL = 8
IMPLICIT_FIRST = {"self", "cls"}


def python_files():
    for package in CHECKED_PACKAGES:
        for folder, _, names in os.walk(os.path.join(ROOT, package)):
            for name in sorted(names):
                if name.endswith(".py"):
                    yield os.path.join(folder, name)


def functions_with_names(tree: ast.AST):
    """Every def and async def, methods and nested functions included, with a dotted name."""
    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}{child.name}"
                if not isinstance(child, ast.ClassDef):
                    yield name, child
                yield from visit(child, name + ".")
            else:
                yield from visit(child, prefix)
    yield from visit(tree, "")


def positional_count(function: ast.FunctionDef) -> int:
    names = [a.arg for a in function.args.posonlyargs + function.args.args]
    if names and names[0] in IMPLICIT_FIRST:
        names = names[1:]
    return len(names)


def offences():
    found = []
    for path in python_files():
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read(), filename=path)
        where = os.path.relpath(path, ROOT)
        for name, function in functions_with_names(tree):
            lines = function.end_lineno - function.lineno + 1
            positional = positional_count(function)
            if lines > MAX_LINES:
                found.append(f"{where}:{name} is {lines} lines long (limit {MAX_LINES})")
            if positional > MAX_POSITIONAL:
                found.append(f"{where}:{name} takes {positional} positional parameters (limit {MAX_POSITIONAL})")
    return found


def test_the_checker_sees_methods_nested_functions_and_parameters():
    source = ("class A:\n"
              "    def method(self, a, b, /, c, *, d, e):\n"
              "        async def inner(x):\n"
              "            pass\n")
    found = dict(functions_with_names(ast.parse(source)))
    assert set(found) == {"A.method", "A.method.inner"}
    assert positional_count(found["A.method"]) == 3
    assert positional_count(found["A.method.inner"]) == 1
    assert found["A.method"].end_lineno - found["A.method"].lineno + 1 == 3


def test_functions_are_short_and_take_few_positional_parameters():
    found = offences()
    assert not found, f"{len(found)} functions break the code-shape limits:\n" + "\n".join(found)
