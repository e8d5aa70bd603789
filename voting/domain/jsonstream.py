"""Reading one huge JSON object piece by piece, in bounded memory.

A million-ballot bundle is about half a gigabyte; ``json.load`` would need
several times that. This reader walks the top-level object and its arrays
itself and hands each member or element to ``json.JSONDecoder.raw_decode``
over a sliding text buffer, so only one element is ever decoded at a time.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO, NoReturn, Protocol

from voting.domain.canonical import STRICT_DECODER, EncodingError

CHUNK = 1 << 20
# No single value is held whole beyond these (issue 9 §7): an array element (a roll row, a
# log entry, an attestation) or a field name at most 1 MiB of text, anything else read at
# once (a section such as checkpoints, an unknown field's value) at most 16 MiB. A bundle
# with a bigger one is invalid, reported with its place; the reader never holds more.
MAX_ELEMENT = 1 << 20
MAX_VALUE = 16 << 20
# Python refuses to turn more digits than this into an int (sys.get_int_max_str_digits).
_INT_DIGITS = 4300
_BOM = codecs.BOM_UTF8
_SPACE = " \t\n\r"
_WHITESPACE = re.compile(f"[{_SPACE}]*")


def _lenient_integer(text: str) -> int | str:
    """An integer too long for ``int`` stays text: the strict reading has already refused it,
    and what the lenient one makes of it must not stop the reading (a usage error)."""
    return int(text) if len(text) <= _INT_DIGITS else text


_LENIENT = json.JSONDecoder(parse_int=_lenient_integer)
# A decoding error this far before the end of the buffer cannot be caused by the cut.
_CUT_MARGIN = 16


class JsonSyntaxError(ValueError):
    """The file is not (or stops being) one well-formed UTF-8 JSON text; reading cannot go on."""


class ValueTooLarge(JsonSyntaxError):
    """One value is longer than the reader holds at once; reading cannot go on."""


@dataclass(frozen=True)
class Unreadable:
    """A complete JSON value outside the spec's value domain (a float, a duplicate key, ...).

    Reading goes on after it, so one bad entry does not hide the rest; ``value``
    is what a lenient reading made of it, for what can still be learnt from it
    (an entry's type and hash keep the order and the chain checkable).
    """

    message: str
    value: Any


def decode_element(text: str) -> Any | Unreadable:
    """A complete element's text, decoded as ``JsonStream.value`` decodes it."""
    try:
        return STRICT_DECODER.decode(text)
    except EncodingError as error:
        return Unreadable(str(error), _LENIENT.decode(text))


class Recogniser(Protocol):
    """What recognises an element as text (``verbatim.Layouts``, or a compiled pattern)."""

    def match(self, text: str, pos: int, /) -> re.Match[str] | None: ...


class JsonStream:
    def __init__(self, raw: BinaryIO, chunk: int | None = None) -> None:
        self._raw = raw
        self._chunk = chunk or CHUNK
        self._decoder = codecs.getincrementaldecoder("utf-8")("strict")
        self._buf = ""
        self._pos = 0
        self._offset = 0  # characters dropped from the front of the buffer
        self._eof = False
        self._started = False

    # --- structure ---------------------------------------------------------

    def members(self) -> Iterator[str]:
        """Walk an object: yields each key; the caller must then read or skip its value."""
        self._expect("{")
        if self.peek() == "}":
            self._pos += 1
            return
        while True:
            if self.peek() != '"':
                self._fail("expected a field name")
            key = self._decode(_LENIENT, MAX_ELEMENT)
            self._expect(":")
            yield key
            if self._next_of(",}") == "}":
                return

    def items(
        self, strict: bool = True, verbatim: Recogniser | None = None
    ) -> Iterator[Any | Unreadable | re.Match[str]]:
        """Walk an array: yields each element, decoded strictly unless only skipping.

        An element that ``verbatim`` matches as it stands is yielded as the
        match, undecoded (see ``verbatim.py``); one cut by the end of the
        buffer is simply decoded.
        """
        self._expect("[")
        if self.peek() == "]":
            self._pos += 1
            return
        while True:
            match = verbatim.match(self._buf, self._pos) if verbatim and self.peek() else None
            if match is not None:
                self._pos = match.end()
                yield match
            else:
                yield self.value(MAX_ELEMENT) if strict else self._decode(_LENIENT, MAX_ELEMENT)
            if self._next_of(",]") == "]":
                return

    def value(self, limit: int = MAX_VALUE) -> Any | Unreadable:
        """The next value, strictly in the spec's value domain, or Unreadable and skipped."""
        try:
            return self._decode(STRICT_DECODER, limit)
        except EncodingError as error:
            # A failed decode leaves the position at the value's start.
            at = self._offset + self._pos
            lenient = self._decode(_LENIENT, limit)
            return Unreadable(f"{error} (in the value at character {at})", lenient)

    def skip(self) -> None:
        """Pass over the next value; an array goes element by element, to bound memory."""
        if self.peek() == "[":
            for _ in self.items(strict=False):
                pass
        else:
            self._decode(_LENIENT, MAX_VALUE)

    def end(self) -> None:
        """Only whitespace may follow the top-level value."""
        if self.peek() != "":
            self._fail("unexpected data after the bundle object")

    # --- the buffer --------------------------------------------------------

    def _decode(self, decoder: json.JSONDecoder, limit: int) -> Any:
        self.peek()
        while True:
            try:
                value, end = decoder.raw_decode(self._buf, self._pos)
            except json.JSONDecodeError as error:
                if self._eof or self._is_final(error):
                    self._fail(error.msg, self._offset + error.pos)
                self._fill_within(limit)
                continue
            except RecursionError:
                self._fail("values nested too deeply")
            if end == len(self._buf) and not self._eof:
                self._fill_within(limit)  # a number may go on in the next chunk
                continue
            self._pos = end
            return value

    def _is_final(self, error: json.JSONDecodeError) -> bool:
        cut_short = error.msg.startswith("Unterminated string")
        return not cut_short and error.pos < len(self._buf) - _CUT_MARGIN

    def peek(self) -> str:
        """Skip whitespace; the next character, or '' at the end of the file."""
        while True:
            buf, pos = self._buf, self._pos
            # Most often there is no whitespace, or the one newline between entries.
            if pos < len(buf) and buf[pos] not in _SPACE:
                return buf[pos]
            if pos + 1 < len(buf) and buf[pos + 1] not in _SPACE:
                self._pos = pos + 1
                return buf[pos + 1]
            self._pos = _WHITESPACE.match(buf, pos).end()
            if self._pos < len(self._buf) or self._eof:
                return self._buf[self._pos : self._pos + 1]
            self._fill()

    def _expect(self, char: str) -> None:
        if self.peek() != char:
            self._fail(f"expected {char!r}")
        self._pos += 1

    def _next_of(self, chars: str) -> str:
        char = self.peek()
        if char == "" or char not in chars:
            self._fail(f"expected one of {' '.join(repr(c) for c in chars)}")
        self._pos += 1
        return char

    def _fill_within(self, limit: int) -> None:
        """More text for the value that starts at the position, unless it is already too long."""
        if len(self._buf) - self._pos >= limit:
            at = self._offset + self._pos
            raise ValueTooLarge(
                f"a value longer than {limit:,} characters (the most read at once)"
                f" at character {at}"
            )
        self._fill()

    def _fill(self) -> None:
        if not self._started:
            self._started = True
            data = self._raw.read(max(self._chunk, len(_BOM)))
            if data.startswith(_BOM):
                self._fail("the file starts with a byte-order mark")
        else:
            data = self._raw.read(self._chunk)
        try:
            text = self._decoder.decode(data, final=not data)
        except UnicodeDecodeError as error:
            self._fail(f"not UTF-8 ({error.reason})")
        self._eof = not data
        self._buf = self._buf[self._pos :] + text
        self._offset += self._pos
        self._pos = 0

    def _fail(self, message: str, offset: int | None = None) -> NoReturn:
        at = self._offset + self._pos if offset is None else offset
        raise JsonSyntaxError(f"{message} at character {at}")
