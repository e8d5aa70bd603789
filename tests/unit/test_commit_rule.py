"""The caller owns the commit (ARCHITECTURE rule 2), checked on the source.

A use case is a public service function that commits, once, as the outermost caller of
everything it runs; a step (a private helper, or a public function that does not commit)
never commits; and no use case runs inside another one, where its commit would end the
outer caller's transaction (and release its locks) half-way. Pages, the API and the CLI
call use cases; they never commit themselves.

The rule reads the code rather than running it, so every path is covered, also the ones no
test takes. Calls are resolved by name through the module's imports (``ballots.cast``,
``from … import cast``, a function of the same module); that is how this code base calls
its services.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ROOT / "voting" / "services"

# Functions that run use cases one after another, each its own transaction, the way the
# CLI does; they neither commit themselves nor run inside a transaction of their own.
COMPOSERS = {
    "voting.services.assembly.meetings.advance",  # the clock's steps: open, then close
    # a cast: appended at once, or written as waiting and then appended in a batch
    "voting.services.assembly.ballots.cast",
    # a cast from what the worker keeps: appended at once, or joins a batch the same way
    "voting.services.assembly.ballots.cast_kept",
    # an owner's cast (the form, the API): the kept path, else who may, the clock, the cast
    "voting.services.assembly.owner_casts.cast",
    "voting.services.tickets.sweep.sweep",  # the tickets' clock: one transaction per ticket
    "voting.services.credit.monthly.run",  # a month's ticket records: one transaction per firm
}
COMPOSER_PACKAGES = ("voting.services.demo.",)  # `flask demo load`: a script of use cases


def _module(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def _commits(node: ast.AST) -> list[int]:
    """Lines of ``db.session.commit()`` in ``node``."""
    return [
        call.lineno
        for call in ast.walk(node)
        if isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and call.func.attr == "commit"
        and ast.unparse(call.func.value) == "db.session"
    ]


def _functions(tree: ast.AST) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


def _trees(folder: Path) -> dict[str, ast.Module]:
    return {_module(path): ast.parse(path.read_text()) for path in sorted(folder.rglob("*.py"))}


def _imports(tree: ast.Module) -> dict[str, str]:
    """Local name → what it names (``voting.services.assembly.ballots`` or ``….cast``)."""
    names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return names


def _callee(call: ast.Call, module: str, imports: dict[str, str]) -> str | None:
    function = call.func
    if isinstance(function, ast.Name):
        return imports.get(function.id, f"{module}.{function.id}")
    if isinstance(function, ast.Attribute) and isinstance(function.value, ast.Name):
        owner = imports.get(function.value.id)
        return f"{owner}.{function.attr}" if owner else None
    return None


def _use_cases(trees: dict[str, ast.Module]) -> dict[str, int]:
    return {
        f"{module}.{function.name}": lines[0]
        for module, tree in trees.items()
        for function in _functions(tree)
        if (lines := _commits(function))
    }


def test_steps_never_commit():
    trees = _trees(SERVICES)
    private = [
        f"{name} (line {line})"
        for name, line in _use_cases(trees).items()
        if name.rpartition(".")[2].startswith("_") and not name.startswith(COMPOSER_PACKAGES)
    ]
    assert not private, "helpers that commit (the outermost caller commits): " + ", ".join(private)


def test_no_use_case_runs_inside_another():
    trees = _trees(SERVICES)
    use_cases = _use_cases(trees)
    nested = []
    for module, tree in trees.items():
        imports = _imports(tree)
        for function in _functions(tree):
            caller = f"{module}.{function.name}"
            if caller in COMPOSERS or caller.startswith(COMPOSER_PACKAGES):
                continue
            for call in ast.walk(function):
                if not isinstance(call, ast.Call):
                    continue
                callee = _callee(call, module, imports)
                if callee in use_cases and callee != caller:
                    nested.append(f"{caller} (line {call.lineno}) runs {callee}, which commits")
    assert not nested, "\n".join(nested)


def test_composers_are_there():
    """Each composer named above exists and itself calls a use case or another composer (a
    stale entry would exempt a function that no longer needs it). That it calls nothing
    else that writes is not checked: composers also read (who may cast, a ballot's choices
    checked before the lock), and telling a read from a write needs more than the names."""
    trees = _trees(SERVICES)
    use_cases = _use_cases(trees)
    for name in COMPOSERS:
        module, _, function = name.rpartition(".")
        found = next((f for f in _functions(trees[module]) if f.name == function), None)
        assert found is not None, name
        imports = _imports(trees[module])
        runs = {
            _callee(call, module, imports) for call in ast.walk(found) if isinstance(call, ast.Call)
        }
        assert runs & (set(use_cases) | COMPOSERS), f"{name} runs no use case"


def test_pages_api_and_commands_never_commit():
    for folder in (ROOT / "voting" / "web", ROOT / "voting" / "domain", ROOT / "voting" / "models"):
        for module, tree in _trees(folder).items():
            assert not _commits(tree), f"{module} commits: only a service's use case does"
    assert not _commits(ast.parse((ROOT / "voting" / "cli.py").read_text()))


def test_the_rule_sees_what_it_looks_for():
    """The checker itself: a helper that commits and a use case inside another are found."""
    source = """
from voting.services.assembly import ledger
def _helper():
    db.session.commit()
def outer():
    ledger.lock(1)
    inner()
    db.session.commit()
def inner():
    db.session.commit()
"""
    tree = ast.parse(source)
    use_cases = _use_cases({"m": tree})
    assert set(use_cases) == {"m._helper", "m.outer", "m.inner"}
    calls = [
        _callee(call, "m", _imports(tree))
        for call in ast.walk(tree)
        if isinstance(call, ast.Call) and not _commits(call)
    ]
    assert "m.inner" in calls and "voting.services.assembly.ledger.lock" in calls
