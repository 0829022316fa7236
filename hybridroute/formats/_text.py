"""Shared parsing helpers: the format error type and a small TSPLIB-style document reader.

TSPLIB, the LKH tour format and the explicit-matrix VRPLIB files share one layout: a header
of ``KEY : value`` lines, then data sections that start with a ``NAME_SECTION`` line and run
until the next section, a header line or ``EOF``. Matrix rows may wrap across lines, so a
section is read as one flat stream of numbers, never row by row.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..problem import Problem, ProblemValidationError

__all__ = ["FormatError", "TsplibDocument", "parse_tsplib", "read_text", "build_problem"]

_SECTION = re.compile(r"^([A-Z][A-Z0-9_]*)_SECTION\s*:?\s*$")
_HEADER = re.compile(r"^([A-Z][A-Z0-9_]*)\s*:(.*)$")


class FormatError(ValueError):
    """A benchmark file cannot be read.

    Attributes
    ----------
    path
        The file, as given.
    line
        1-based line number of the offending line, or None when the problem is not on one line.
    reason
        The message without the file and line prefix.
    """

    def __init__(self, path: str | os.PathLike, reason: str, line: int | None = None):
        self.path = str(path)
        self.line = line
        self.reason = reason
        where = f", line {line}" if line is not None else ""
        super().__init__(f"{self.path}{where}: {reason}")


def read_text(path: str | os.PathLike) -> str:
    """The file's text; a missing or binary file is a :class:`FormatError`."""
    try:
        return Path(path).read_text(encoding="utf-8", errors="strict")
    except FileNotFoundError:
        raise FormatError(path, "no such file") from None
    except UnicodeDecodeError as exc:
        raise FormatError(path, f"not a text file ({exc.reason} at byte {exc.start})") from None
    except IsADirectoryError:
        raise FormatError(path, "is a directory, not a file") from None


def build_problem(path: str | os.PathLike, **fields: Any) -> Problem:
    """``Problem(**fields)``, with a validation failure reported against the file."""
    try:
        return Problem(**fields)
    except ProblemValidationError as exc:
        raise FormatError(path, f"invalid instance data: {exc}") from exc


@dataclass
class TsplibDocument:
    """A parsed TSPLIB-style file: header values, COMMENT lines and raw section lines.

    ``sections`` maps a section name without ``_SECTION`` (e.g. ``"EDGE_WEIGHT"``) to the
    1-based line number of its first data line and its data lines.
    """

    path: str
    header: dict[str, str] = field(default_factory=dict)
    comments: list[str] = field(default_factory=list)
    sections: dict[str, tuple[int, list[str]]] = field(default_factory=dict)

    def get(self, key: str, default: str | None = None) -> str | None:
        return self.header.get(key, default)

    def require(self, key: str) -> str:
        value = self.header.get(key)
        if value is None or value == "":
            raise FormatError(self.path, f"the header has no {key} line")
        return value

    def positive_int(self, key: str) -> int:
        raw = self.require(key)
        try:
            value = int(raw)
        except ValueError:
            raise FormatError(self.path, f"{key} must be an integer, got {raw!r}") from None
        if value < 1:
            raise FormatError(self.path, f"{key} must be positive, got {value}")
        return value

    def numbers(self, section: str) -> np.ndarray:
        """All numbers of a section as one flat float64 array (rows may wrap across lines)."""
        if section not in self.sections:
            raise FormatError(self.path, f"missing {section}_SECTION")
        first, lines = self.sections[section]
        tokens = " ".join(lines).split()
        try:
            return np.array(tokens, dtype=np.float64)
        except ValueError:
            pass
        # Slow path only to say where the bad token is.
        for offset, line in enumerate(lines):
            for token in line.split():
                try:
                    float(token)
                except ValueError:
                    raise FormatError(self.path, f"{section}_SECTION holds a non-numeric value {token!r}",
                                      first + offset) from None
        raise AssertionError("unreachable: every token parsed on the slow path")


def parse_tsplib(path: str | os.PathLike, text: str) -> TsplibDocument:
    """Split a TSPLIB-style text into header, comments and sections."""
    doc = TsplibDocument(path=str(path))
    current: list[str] | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line == "EOF":
            break
        section = _SECTION.match(line)
        if section:
            name = section.group(1)
            if name in doc.sections:
                raise FormatError(path, f"{name}_SECTION appears twice", number)
            current = []
            doc.sections[name] = (number + 1, current)
            continue
        header = _HEADER.match(line)
        if header:
            key, value = header.group(1), header.group(2).strip()
            if key == "COMMENT":
                doc.comments.append(value)
            elif key in doc.header:
                raise FormatError(path, f"{key} is given twice", number)
            else:
                doc.header[key] = value
            current = None
            continue
        if current is None:
            raise FormatError(path, f"unexpected line {line[:60]!r} (neither 'KEY : value' nor inside a "
                                    f"section)", number)
        current.append(line)
    return doc
