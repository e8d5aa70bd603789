"""The web layer is thin (issue 10 §1): no page or endpoint talks to the database (no
``db.session``, no ``db.get_or_404``: nothing of ``db`` at all).

Views parse the request, get what they show through a service (a meeting through
``services/access/scope``, one function per audience), call one use case and answer.
Checked on the source, like the commit rule, so that a query slipped into a view fails here
rather than in review.
"""

from __future__ import annotations

import ast
from pathlib import Path

WEB = Path(__file__).resolve().parents[2] / "voting" / "web"


def _session_uses(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    return [
        f"{path.name}:{node.lineno} {ast.unparse(node)}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and _is_db(node.value)
    ]


def _is_db(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id == "db"


def test_no_view_uses_the_database():
    found = [use for path in sorted(WEB.rglob("*.py")) for use in _session_uses(path)]
    assert found == []


def test_the_check_sees_a_session_use(tmp_path):
    """The check itself: a view that queries is found (else the test above proves nothing)."""
    view = tmp_path / "view.py"
    view.write_text("def page(id):\n    return db.session.get(Meeting, id)\n")
    assert _session_uses(view) == ["view.py:2 db.session"]
