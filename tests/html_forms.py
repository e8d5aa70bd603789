"""Read a page's forms as a browser would submit them: what each field holds, and its inputs."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Form:
    action: str
    values: dict[str, str] = field(default_factory=dict)  # what submitting it sends (no token)
    inputs: list[dict[str, str | None]] = field(default_factory=list)  # every <input>'s attributes
    buttons: list[str] = field(default_factory=list)  # the text of each button

    def input(self, name: str) -> dict[str, str | None]:
        found = [attrs for attrs in self.inputs if attrs.get("name") == name]
        assert len(found) == 1, f"{len(found)} inputs named {name!r} in the form to {self.action}"
        return found[0]


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: str | None = None
        self._first_option: str | None = None
        self._option_value: str | None = None
        self._text: list[str] | None = None  # inside a textarea, an option or a button
        self._text_kind = ""
        self._textarea = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "form":
            self._form = Form(named.get("action") or "")
            self.forms.append(self._form)
        if self._form is None:
            return
        if tag == "input":
            self._form.inputs.append(named)
            name, kind = named.get("name"), named.get("type", "text")
            if name == "csrf_token":
                return
            if name and (kind not in ("checkbox", "radio") or "checked" in named):
                self._form.values[name] = named.get("value") or ("on" if kind == "checkbox" else "")
        elif tag == "select":
            self._select, self._first_option = named.get("name"), None
        elif tag == "option" and self._select:
            self._option_value = named.get("value")
            self._text, self._text_kind = [], "option"
            if "selected" in named:
                self._form.values[self._select] = named.get("value") or ""
        elif tag == "textarea":
            self._textarea = named.get("name") or ""
            self._text, self._text_kind = [], "textarea"
        elif tag == "button":
            self._text, self._text_kind = [], "button"

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        form = self._form
        if form is None:
            return
        text = "".join(self._text or [])
        if tag == "option" and self._text_kind == "option" and self._select:
            value = self._option_value if self._option_value is not None else text
            if self._first_option is None:
                self._first_option = value
            self._text = None
        elif tag == "select" and self._select:
            form.values.setdefault(self._select, self._first_option or "")
            self._select = None
        elif tag == "textarea" and self._text_kind == "textarea":
            form.values[self._textarea] = text.removeprefix("\n")  # as browsers read it
            self._text = None
        elif tag == "button" and self._text_kind == "button":
            form.buttons.append(text.strip())
            self._text = None
        elif tag == "form":
            self._form = None


def forms_of(html: str) -> list[Form]:
    reader = _Reader()
    reader.feed(html)
    return reader.forms


def form_to(html: str, action: str) -> Form:
    """The one form on the page that posts to ``action``."""
    found = [form for form in forms_of(html) if form.action == action]
    assert len(found) == 1, f"{len(found)} forms post to {action}"
    return found[0]


def has_form_to(html: str, action: str) -> bool:
    return any(form.action == action for form in forms_of(html))
