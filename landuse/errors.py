"""Exception types of landuse.

Two kinds of problems exist (see STYLE.md):

* input that cannot be read or is invalid raises an :class:`InputError` carrying a :class:`Location`
  (file, sheet, row, column) and what was expected;
* numbers that do not add up are *not* exceptions: checks return findings tables.

The CLI turns every :class:`LanduseError` into one line on stderr and exit code 2.
"""

from __future__ import annotations

from dataclasses import dataclass
from os import PathLike


@dataclass(frozen=True)
class Location:
    """Where a problem is: file, optional sheet, 1-based row (the header is row 1) and column name."""

    file: str | None = None
    sheet: str | None = None
    row: int | None = None
    column: str | None = None

    @classmethod
    def of(cls, file: str | PathLike | None, **kw) -> Location:
        return cls(None if file is None else str(file), **kw)

    def __str__(self) -> str:
        parts = [self.file or "<input>"]
        if self.sheet:
            parts.append(str(self.sheet))
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column:
            parts.append(f"column {self.column}")
        return ":".join(parts)


class LanduseError(Exception):
    """Base class of every error this package raises on purpose."""

    exit_code = 2

    def __reduce__(self):
        """Pickled with its attributes (location, expected, conflicts …), not just its message, so an error
        raised in a background process (:mod:`landuse.background`) is the same error in the parent."""
        return _rebuild, (type(self), self.args, self.__dict__)


class InputError(LanduseError):
    """Input that cannot be read or is invalid. ``str(err)`` names the location and what was expected."""

    def __init__(self, message: str, location: Location | None = None, *, expected: str | None = None,
                 found: object = None):
        self.message = message
        self.location = location
        self.expected = expected
        self.found = found
        super().__init__(self._render())

    def _render(self) -> str:
        text = self.message
        if self.expected is not None:
            text += f": expected {self.expected}"
            if self.found is not None:
                text += f", found {self.found!r}"
        elif self.found is not None:
            text += f" ({self.found!r})"
        return f"{self.location}: {text}" if self.location else text


class EmptyFileError(InputError):
    """The file has no data rows."""


class MissingColumnError(InputError):
    """A required column is absent."""


class NonNumericError(InputError):
    """A cell that must hold a number does not."""


class AmbiguousNumberFormatError(InputError):
    """``--number-format auto`` could not decide between Vietnamese and English number formats."""


class UnknownCodeError(InputError):
    """A land-type code that the classification does not know."""


class NegativeAreaError(InputError):
    """An area below zero."""


class DuplicateKeyError(InputError):
    """The same key (e.g. unit, year, code) occurs twice."""


class MissingParentError(InputError):
    """A classification row names a parent code that does not exist."""


class CrosswalkError(InputError):
    """A code cannot be converted between classifications (no rule, or a split without shares)."""


class ConfigError(InputError):
    """A dataset manifest or scenario file is invalid."""


class OutputExistsError(LanduseError):
    """Refusing to overwrite a file the user did not ask us to replace."""


class InfeasibleError(LanduseError):
    """No allocation satisfies the hard constraints together; ``conflicts`` names a minimal conflicting set."""

    exit_code = 1

    def __init__(self, message: str, conflicts=None):
        self.conflicts = conflicts
        super().__init__(message)


class NoSolutionError(LanduseError):
    """The solver stopped without a solution that passes the check against every row and bound (a time limit
    reached before a feasible point, an unbounded model, or a point the solver called optimal that violates the
    model). Exit code 4."""

    exit_code = 4


def _rebuild(cls: type[LanduseError], args: tuple, state: dict) -> LanduseError:
    err = cls.__new__(cls)
    Exception.__init__(err, *args)
    err.__dict__.update(state)
    return err


def did_you_mean(word: str, choices) -> str:
    """"; did you mean 'X'?" for the nearest of ``choices``, ignoring case ('skk' -> 'SKK', 'pln' -> 'plan');
    "" when none is near. The one "did you mean" rule of the package."""
    import difflib

    by_lower: dict[str, str] = {}
    for c in sorted(str(x) for x in choices):
        by_lower.setdefault(c.lower(), c)
    exact = by_lower.get(str(word).lower())
    near = [exact] if exact else [by_lower[w] for w in
                                  difflib.get_close_matches(str(word).lower(), sorted(by_lower), n=1, cutoff=0.4)]
    return f"; did you mean {near[0]!r}?" if near else ""
