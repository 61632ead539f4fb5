"""Glob patterns for DQL string values, translated to regexes that are safe on both backends.

`*` matches within one path segment (never `/`); `**` matches anything, `/` included. A run of
three or more stars is the same as `**`. Every other character is literal: a `.` or `[` in a
filename never acts as regex syntax.

Why two translations: PostgreSQL's regex engine does not backtrack exponentially, so it gets
the plain translation. Django implements REGEXP on SQLite with Python's `re`, which does: the
plain regex for `*a*a*a*b` takes seconds per row on a 255-character name. For SQLite each
wildcard is therefore wrapped in an atomic group that commits to the earliest match of the
literal after it, which bounds the work to about O(n^2) per row. Committing early is correct
for globs; `test_dql.py` checks the two translations against a reference matcher.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# ASCII punctuation gets a backslash; a backslash before an alphanumeric character would be an
# escape sequence (\d, \A...) in both dialects, so letters, digits and non-ASCII pass unchanged.
_NEEDS_ESCAPE = re.compile(r"[^0-9A-Za-z_/\x80-\U0010ffff]")
_STAR_RUN = re.compile(r"\*+")


def _escape(literal: str) -> str:
    return _NEEDS_ESCAPE.sub(lambda match: "\\" + match.group(0), literal)


@dataclass(frozen=True)
class Glob:
    """A pattern split into literal runs around its wildcards.

    `literals` has one more entry than `wildcards`; `wildcards[i]` is True for `**`, False
    for `*`, and sits between `literals[i]` and `literals[i + 1]`.
    """

    literals: tuple[str, ...]
    wildcards: tuple[bool, ...]
    ignore_case: bool = False

    @classmethod
    def parse(cls, pattern: str, *, ignore_case: bool = False) -> Glob:
        literals: list[str] = []
        wildcards: list[bool] = []
        position = 0
        for run in _STAR_RUN.finditer(pattern):
            literals.append(pattern[position : run.start()])
            wildcards.append(len(run.group(0)) > 1)
            position = run.end()
        literals.append(pattern[position:])
        return cls(tuple(literals), tuple(wildcards), ignore_case)

    @classmethod
    def substring(cls, text: str) -> Glob:
        """A case-insensitive match of `text` anywhere in the value (`$match` without wildcards)."""
        return cls(("", text, ""), (True, True), ignore_case=True)

    @property
    def prefix(self) -> str | None:
        """The literal prefix when the pattern is `<literal>**`, e.g. `/dir/**`.

        Such a pattern is answered with an index-friendly prefix comparison instead of a regex.
        """
        if self.wildcards == (True,) and self.literals[1] == "" and not self.ignore_case:
            return self.literals[0]
        return None

    def regex(self, *, atomic: bool) -> str:
        """The whole-string regex; `atomic` for Python's `re` (SQLite), plain for PostgreSQL."""
        flags = "(?is)" if self.ignore_case else "(?s)"
        body = self._atomic_body() if atomic else self._plain_body()
        return rf"{flags}\A{body}\Z"

    def _plain_body(self) -> str:
        parts = [_escape(self.literals[0])]
        for double, literal in zip(self.wildcards, self.literals[1:], strict=True):
            parts.append((".*" if double else "[^/]*") + _escape(literal))
        return "".join(parts)

    def _atomic_body(self) -> str:
        # Chunks are the pieces between `**`s; inside a chunk only single stars remain.
        chunks: list[list[str]] = [[self.literals[0]]]
        for double, literal in zip(self.wildcards, self.literals[1:], strict=True):
            if double:
                chunks.append([literal])
            else:
                chunks[-1].append(literal)
        parts = [self._chunk(chunks[0], last=len(chunks) == 1)]
        for chunk in chunks[1:-1]:
            # `**` then the earliest place where the chunk matches; anything after it is left
            # for the next `**`, so the earliest end is always the best one.
            parts.append(f"(?>.*?{self._chunk(chunk, last=False)})")
        if len(chunks) > 1:
            # The last chunk must end the string, so here the engine may try each start.
            parts.append(".*" + self._chunk(chunks[-1], last=True))
        return "".join(parts)

    @staticmethod
    def _chunk(literals: list[str], *, last: bool) -> str:
        head, rest = literals[0], literals[1:]
        if not last:
            return _escape(head) + "".join(f"(?>[^/]*?{_escape(literal)})" for literal in rest)
        if not rest:
            return _escape(head)
        middle = "".join(f"(?>[^/]*?{_escape(literal)})" for literal in rest[:-1])
        return _escape(head) + middle + "[^/]*" + _escape(rest[-1])
