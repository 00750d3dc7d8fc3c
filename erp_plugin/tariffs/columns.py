"""How a record's field is read from its sheet: the one description the schema, the model and the reader share.

A record in ``model.py`` marks each field that a sheet column holds with
``column(...)`` — the column's kind, whether it is required, its Russian
aliases, its limits and a hint — and each Settings or StampCard key with
``setting(...)``. ``columns_of(record)`` and ``settings_of(record)`` list them
for the reader and the template, so adding a column to a sheet is one edit: a
field in ``model.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from decimal import Decimal

# Cell kinds: raw (as the cell holds it), text, key (an identifier, trimmed), money (minor units), pct (a
# percentage), number (a decimal), int, date, bool, list (comma-separated text).

_COLUMN = "column"
_SETTING = "setting"


@dataclass(frozen=True)
class Col:
    """A sheet column: its header, kind, aliases and limits; ``field`` is the record attribute it fills."""

    name: str
    kind: str = "text"
    required: bool = False
    aliases: tuple[str, ...] = ()
    min: Decimal | None = None
    max: Decimal | None = None
    hint: str = ""  # what a right value looks like, for messages and the Instructions sheet
    field: str = ""  # the record's attribute; blank when it is the header's name or the column fills none


def column(
    kind: str = "text",
    aliases: tuple[str, ...] = (),
    *,
    required: bool = False,
    min: Decimal | None = None,
    max: Decimal | None = None,
    hint: str = "",
    header: str | None = None,
    default=None,
):
    """A record field read from a sheet column headed like the field (or ``header``).

    A required column's field has no default: every record has a value. A blank
    optional cell leaves the field at ``default``.
    """
    col = Col(header or "", kind, required, aliases, min, max, hint)
    if required:
        return field(metadata={_COLUMN: col})
    return field(default=default, metadata={_COLUMN: col})


def columns_of(record: type) -> tuple[Col, ...]:
    """The sheet columns of a record class, in field order: the sheet's column order."""
    return tuple(
        replace(f.metadata[_COLUMN], name=f.metadata[_COLUMN].name or f.name, field=f.name)
        for f in fields(record)
        if _COLUMN in f.metadata
    )


@dataclass(frozen=True)
class SettingSpec:
    """A key of a key/value sheet (Settings, StampCard): how its value is read, and its default."""

    key: str
    kind: str  # int, pct, bool, text, money, choice, month_day
    choices: tuple[str, ...] = ()
    min: int | None = None
    max: int | None = None
    about: str = ""
    default: object = None


def setting(default, kind: str, choices: tuple[str, ...] = (), *, min: int | None = None, max: int | None = None,
            about: str = ""):
    """A record field read from the value of a key/value row whose key is the field's name."""
    spec = SettingSpec("", kind, choices, min, max, about, default)
    return field(default=default, metadata={_SETTING: spec})


def settings_of(record: type) -> tuple[SettingSpec, ...]:
    """The keys of a key/value record class, in field order, each with its default."""
    return tuple(replace(f.metadata[_SETTING], key=f.name) for f in fields(record) if _SETTING in f.metadata)
