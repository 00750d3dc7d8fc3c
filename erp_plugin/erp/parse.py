"""Raw rows of an export to lines: every field parsed column-wise, the rows that are not lines left out,
every bad value a problem with its export row and field.

The same for every format: a chunk of raw cells (xlsx, csv: a frame of object
or text columns) or a parquet batch (typed Arrow columns, parsed straight from
Arrow where their type allows, side by side on a thread pool). Blank rows, group
headings and the totals row (``Итого``, ``Всего``, ``Total``) are not lines.
The column parsers are in values.py, arrow_values.py and parsing.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from itertools import chain

import numpy as np
import pandas as pd

from ..cellkinds import blank_text
from ..i18n import N_, Message, Number, msg
from ..lines import SOURCE_ROW, input_kinds
from ..money import PCT_DECIMALS, MoneyError
from ..parallel import side_by_side
from ..parsing import EXCEL_DIGITS, decimals_of, parse_decimal, parse_scaled_column
from ..problems import Problem, Problems, not_listed
from ..tables import ColumnKind
from .arrow_values import parse_arrow_column
from .fields import FIELDS, REQUIRED_FIELDS
from .header import ExportError
from .read_parquet import ArrowBatch
from .values import (
    parse_date_column,
    parse_int_column,
    parse_text_column,
    parse_vat_column,
)

MAX_PROBLEMS_PER_FIELD = 1000  # beyond this a field's bad values are counted, not listed one by one
TOTALS = re.compile(r"^\s*(итого|всего|итог|total|totals|grand total|gesamt)\b", re.IGNORECASE)
# a line names what was sold or at what price: a row with neither is blank, a group heading or a subtotal
# (1C's grouped reports put a group's name and its sums of qty and amount there), not a line
LINE_FIELDS = ("sku", "unit_price")
# the fields of a document, not of its item: ERPNext's Data Export and Shopify leave them blank on a
# document's 2nd…nth item; the three that say which document a row belongs to come first
DOCUMENT_FIELDS = ("date", "doc_id", "client_id", "payment", "coupon", "base_doc")
ITEM_FIELDS = ("sku", "qty")
CODE_IN_NAME = r"^\s*\[([^\]]+)\]"  # Odoo's "[SL5077] Name": the product's internal reference
VAT_FRACTION_MAX = 10**PCT_DECIMALS  # a VAT rate below 1 % is a fraction written for a percentage
EXPECTED = {
    "date": N_("a date, e.g. 31.12.2026"),
    "text": N_("a value"),
    "int": N_("a whole number of 0 or more, e.g. 7"),
    "money": N_("an amount, e.g. 1 234,56"),
    "qty": N_("a quantity, e.g. 5 or 2,5"),
    "price": N_("a price, e.g. 1 234,56"),
    "pct": N_("a VAT rate, e.g. 22%"),
    "percent": N_("a percentage, e.g. 12,5"),
}


def parse_chunk(raw: pd.DataFrame | ArrowBatch, minor_units: int, skip_bad: bool, problems: Problems,
                counts: dict) -> pd.DataFrame:
    """The lines of one chunk (or parquet batch): the fields parsed, the rows that are not lines left out and,
    with ``skip_bad``, the lines with a bad value; every problem added to ``problems`` (``counts``: the
    problems so far per field and code, over all chunks)."""
    kinds = input_kinds(minor_units)
    present = [f for f in FIELDS if f in raw.columns]
    if isinstance(raw, ArrowBatch):  # typed columns, each read once: parsed first, then the rows that are lines kept
        parsed = parse_fields(raw, {name: kinds[name] for name in present})
        filled = np.zeros(len(raw), dtype=bool)
        for name in LINE_FIELDS:
            if name in parsed:
                filled |= ~parsed[name][2]
        if not filled.all():
            raw = raw.keep(filled)
            parsed = {name: tuple(part[filled] for part in column) for name, column in parsed.items()}
    else:
        raw = raw.reset_index(drop=True)
        if "sku" not in raw.columns and "name" in raw.columns:  # no sku column: the code inside the name
            raw = raw.assign(sku=_codes_in_names(raw["name"]))
            present = [f for f in FIELDS if f in raw.columns]
            if raw["sku"].isna().all() and raw["name"].notna().any():
                raise ExportError(Problem("export.no_sku", msg("no column for sku, and the names carry no code "
                                                               "in brackets ([SL5077] Cable); map the sku "
                                                               "column on the Columns sheet of the tariff "
                                                               "workbook"), field="sku"))
        raw = raw[line_rows(raw)].reset_index(drop=True)
        parsed = parse_fields(raw, {name: kinds[name] for name in present})
    if "vat_rate" in parsed:
        parsed["vat_rate"] = _vat_fractions(*parsed["vat_rate"], problems, counts)
    rows = np.asarray(raw[SOURCE_ROW])
    lines = {SOURCE_ROW: rows}
    bad_rows = np.zeros(len(raw), dtype=bool)
    report = Reporter(problems, counts, skip_bad, raw, rows)
    if "unit_price" in parsed and "amount" in parsed:
        parsed["unit_price"] = _free_lines(parsed["unit_price"], parsed["amount"])
    for name in present:
        kind = kinds[name]
        values, bad, blank = parsed[name]
        if name in REQUIRED_FIELDS:
            report(name, blank, "export.blank", lambda _value, n=name, k=kind: msg("{field} is blank; expected {expected}", field=n,
                                                                       expected=EXPECTED[k.name]))
            bad_rows |= blank
        report(name, bad, "export.value", lambda value, n=name, k=kind: bad_value(n, k, value))
        bad_rows |= bad
        lines[name] = values
    frame = pd.DataFrame(lines, copy=False)  # the parsed arrays as they are: no copy, no consolidation
    if skip_bad and bad_rows.any():
        frame = frame[~bad_rows].reset_index(drop=True)
    return frame


def continued(chunks: Iterator, problems: Problems) -> Iterator:
    """The chunks with continuation rows filled: a row with an item (sku or qty) whose date, doc_id and
    client_id are all blank takes the document's fields from the row above (across chunks), as ERPNext's
    Data Export and Shopify write a document's further items. One notice says how many rows did.
    Parquet batches (typed, written by programs) pass as they are."""
    above: dict[str, object] = {}
    filled = 0
    for raw in chunks:
        if isinstance(raw, ArrowBatch) or not all(f in raw.columns for f in DOCUMENT_FIELDS[:3]):
            yield raw
            continue
        raw = raw.reset_index(drop=True)
        fields = [f for f in DOCUMENT_FIELDS if f in raw.columns]
        if len(raw) and not _blanks(raw["doc_id"]).any():  # the common case: every row names its document
            above = {f: raw[f].iloc[-1] for f in fields}
            yield raw
            continue
        blank = {f: _blanks(raw[f]) for f in fields}
        item = np.zeros(len(raw), dtype=bool)
        for name in ITEM_FIELDS:
            if name in raw.columns:
                item |= ~_blanks(raw[name])
        continuing = item & blank["date"] & blank["doc_id"] & blank["client_id"]
        if continuing.any() and (above or not continuing[0]):
            raw = raw.copy()
            for f in fields:
                known = raw[f].astype(object).where(~blank[f], None)
                if f in above:  # the last document of the chunk before, for rows at the top of this one
                    known = pd.concat([pd.Series([above[f]], dtype=object), known], ignore_index=True)
                spread = known.ffill().iloc[-len(raw):].reset_index(drop=True)
                raw.loc[continuing, f] = spread[continuing].to_numpy()
            filled += int(continuing.sum())
        last = np.flatnonzero(~(blank["date"] & blank["doc_id"] & blank["client_id"]) | continuing)
        if len(last):
            above = {f: raw[f].iloc[last[-1]] for f in fields}
        yield raw
    if filled:
        problems.warning("export.continued", msg("{filled} rows carry only an item: each takes its document's "
                                                 "date, doc_id and client_id from the row above (ERPNext's "
                                                 "Data Export writes a document so)",
                                                 filled=filled))


def _blanks(cells: pd.Series) -> np.ndarray:
    """Raw cells that hold no value: missing, empty, white space or a placeholder."""
    return cells.isna().to_numpy() | blank_text(cells.astype(str))


def _codes_in_names(names: pd.Series) -> pd.Series:
    """The ``[CODE]`` at the start of each name (Odoo's product display name), None where there is none."""
    text = names.astype(object).where(names.notna(), "").astype(str)
    return text.str.extract(CODE_IN_NAME, expand=False).str.strip().astype(object).where(lambda c: c.notna(), None)


def _free_lines(price: tuple, amount: tuple) -> tuple:
    """A blank unit_price on a line whose amount is given as 0 is a price of 0 (Odoo leaves a free line's
    price empty); any other blank price stays blank (an error)."""
    values, bad, blank = price
    free = blank & ~amount[1] & ~amount[2] & (_zero_filled(amount[0]) == 0)
    if not free.any():
        return price
    values = np.where(free, 0, _zero_filled(values))
    blank = blank & ~free
    return (pd.arrays.IntegerArray(values, blank.copy()) if blank.any() else values), bad, blank


def _zero_filled(values) -> np.ndarray:
    """A parsed number column as int64, 0 where it is missing."""
    if isinstance(values, pd.arrays.IntegerArray):
        return values.to_numpy(dtype=np.int64, na_value=0)
    return np.asarray(values, dtype=np.int64)


def _vat_fractions(values: np.ndarray, bad: np.ndarray, blank: np.ndarray, problems: Problems, counts: dict):
    """VAT rates written as fractions (Odoo's ``0.07`` for 7 %): when every rate given, but zero, is below 1 %,
    the column is read ×100 with a notice (once per export); otherwise a rate below 1 % is bad."""
    given = ~bad & ~blank & (values != 0)
    tiny = given & (np.abs(values) < VAT_FRACTION_MAX)
    if not tiny.any():
        return values, bad, blank
    if tiny.sum() == given.sum():
        if ("vat_rate", "export.vat_fraction") not in counts:
            counts[("vat_rate", "export.vat_fraction")] = 0  # noticed: not again for the next chunks
            example = int(values[np.flatnonzero(tiny)[0]])
            problems.warning("export.vat_fraction", msg("vat_rate holds fractions ({example}, …), not "
                                                        "percentages: read ×100 ({value} %)",
                                                        example=Number(Decimal(example) / VAT_FRACTION_MAX, most=None),
                                                        value=Number(Decimal(example) * 100 / VAT_FRACTION_MAX, most=None)),
                             field="vat_rate")
        return np.where(tiny, values * 100, values), bad, blank
    return np.where(tiny, 0, values), bad | tiny, blank


class Reporter:
    """Adds a problem per bad cell, up to MAX_PROBLEMS_PER_FIELD per field and code over all chunks."""

    def __init__(self, problems: Problems, counts: dict, skip_bad: bool, raw: pd.DataFrame | ArrowBatch, rows: np.ndarray):
        self.problems, self.counts, self.skip_bad, self.raw, self.rows = problems, counts, skip_bad, raw, rows

    def __call__(self, name: str, mask: np.ndarray, code: str, message) -> None:
        positions = np.flatnonzero(mask)
        if not len(positions):
            return
        seen = self.counts.get((name, code), 0)
        self.counts[(name, code)] = seen + len(positions)
        add = self.problems.warning if self.skip_bad else self.problems.error
        suffix = "; the line is left out" if self.skip_bad else ""
        listed = positions[: max(0, MAX_PROBLEMS_PER_FIELD - seen)]
        if not len(listed):
            return
        raw = self.raw
        values = raw.values(name, listed) if isinstance(raw, ArrowBatch) else list(raw[name].iloc[listed])
        for position, value in zip(listed, values):
            add(code, message(value) + suffix, row=int(self.rows[position]), field=name)


def report_overflow(problems: Problems, counts: dict, skip_bad: bool) -> None:
    """One note per field and code beyond MAX_PROBLEMS_PER_FIELD, counting the lines not listed."""
    problems.extend(not_listed(code, count - MAX_PROBLEMS_PER_FIELD, "warning" if skip_bad else "error", name)
                    for (name, code), count in counts.items() if count > MAX_PROBLEMS_PER_FIELD)


def line_rows(raw: pd.DataFrame) -> np.ndarray:
    """Rows that are lines: not blank, not a group heading, not a totals row."""
    filled = np.zeros(len(raw), dtype=bool)
    for name in LINE_FIELDS:
        if name in raw.columns:
            column = raw[name]
            if column.dtype == object or isinstance(column.dtype, pd.CategoricalDtype):
                filled |= ~_per_value(column, lambda s: s.isna().to_numpy() | blank_text(s.astype(str)), True)
            else:  # a typed column: only a null is blank
                filled |= ~column.isna().to_numpy()
    totals = np.zeros(len(raw), dtype=bool)
    for name in ("_first", "date", "doc_id"):
        if name in raw.columns and (raw[name].dtype == object or isinstance(raw[name].dtype, pd.CategoricalDtype)):
            totals |= _per_value(raw[name], lambda s: s.astype(str).str.match(TOTALS).to_numpy(), False)
    return filled & ~totals


def _per_value(column: pd.Series, test, missing_value: bool) -> np.ndarray:
    """``test`` of each cell, evaluated once per distinct value when the column is categorical."""
    if not isinstance(column.dtype, pd.CategoricalDtype):
        return np.asarray(test(column), dtype=bool)
    per_category = np.asarray(test(pd.Series(column.cat.categories.to_numpy(dtype=object), dtype=object)), dtype=bool)
    codes = column.array.codes
    return np.where(codes < 0, missing_value, np.append(per_category, missing_value)[codes])


def parse_fields(raw: pd.DataFrame | ArrowBatch, kinds: dict[str, ColumnKind]) -> dict[str, tuple]:
    """Each column of ``kinds`` parsed: ``(column for the lines frame, bad, blank)``.

    A parquet batch's columns are parsed side by side on a thread pool: their
    work is Arrow and numpy over whole columns, outside the GIL. Cell values
    (xlsx, csv) go one column after the other.
    """
    def parse(name: str) -> tuple:
        kind = kinds[name]
        if isinstance(raw, ArrowBatch) and kind.name != "text":  # row by row: a row group's raw values at a time
            return _parsed_in_pieces(raw.pieces(name), len(raw), kind)
        values, bad, blank = _parse_field(raw[name], kind)
        return _column(values, blank | bad, kind), bad, blank

    if not isinstance(raw, ArrowBatch):
        return {name: parse(name) for name in kinds}
    return dict(zip(kinds, side_by_side(parse, list(kinds))))


def _parsed_in_pieces(pieces: Iterator, rows: int, kind: ColumnKind) -> tuple:
    """A row-wise field parsed piece by piece (a row group each), every piece copied into the whole
    columns and let go before the next is read: the memory of one piece beside the result. Then
    finished as _column finishes a whole one: a blank or bad value is 0 (NaT for a date) and, in
    numbers, missing."""
    parts = (_parse_field(piece, kind) for piece in pieces)
    first = next(parts)
    columns = [np.empty(rows, dtype=np.asarray(part).dtype) for part in first]
    start = 0
    for part in chain([first], parts):
        size = len(part[1])
        for column, values in zip(columns, part):
            column[start:start + size] = values
        start += size
    values, bad, blank = columns
    missing = bad | blank
    if kind.name == "date":
        values[missing] = np.datetime64("NaT")
        return values, bad, blank
    values = np.asarray(values, dtype=np.int64)
    if not missing.any():
        return values, bad, blank
    values[missing] = 0
    return pd.arrays.IntegerArray(values, missing), bad, blank


def _parse_field(values, kind: ColumnKind):
    """Parse a raw column: an Arrow one (parquet) from its buffers where its type allows, a categorical
    one once per distinct value."""
    if not isinstance(values, pd.Series):
        parsed = parse_arrow_column(values, kind)
        if parsed is not None:
            return parsed
        nan = _not_a_number(values)
        values = values.to_pandas(types_mapper=_keep_decimals, date_as_object=False)
        if nan.any():  # NaN is a failed calculation, not a blank (a null is the blank)
            parsed, bad, blank = _parse_values(values, kind)
            return parsed, bad | nan, blank & ~nan
    if isinstance(values.dtype, pd.CategoricalDtype):
        return _parse_categories(values, kind)
    return _parse_values(values, kind)


def _not_a_number(values) -> np.ndarray:
    """Where an Arrow column of floats holds NaN (its nulls are not NaN)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not pa.types.is_floating(values.type):
        return np.zeros(len(values), dtype=bool)
    return pc.fill_null(pc.is_nan(values), False).to_numpy(zero_copy_only=False)


def _parse_categories(values: pd.Series, kind: ColumnKind):
    codes = values.array.codes
    categories = values.cat.categories
    distinct = pd.Series(categories) if pd.api.types.is_string_dtype(categories.dtype) and categories.dtype != object \
        else pd.Series(categories.to_numpy(dtype=object), dtype=object)
    parsed, bad, blank = _parse_values(distinct, kind)
    missing = codes < 0
    take = np.where(missing, 0, codes)
    if len(bad) == 0:  # no categories at all: every cell is blank
        return _parse_values(pd.Series([None] * len(values), dtype=object), kind)
    bad_out = np.where(missing, False, bad[take])
    blank_out = missing | blank[take]
    if kind.name == "text":
        labels = pd.Series(parsed, dtype=object)
        inverse, unique = pd.factorize(labels, use_na_sentinel=True)
        new_codes = np.where(blank_out, -1, inverse[take])
        return pd.Categorical.from_codes(new_codes, categories=pd.Index(unique, dtype=object)), bad_out, blank_out
    if kind.name == "date":
        return pd.Series(np.asarray(parsed)[take]).where(~blank_out), bad_out, blank_out
    return np.asarray(parsed)[take], bad_out, blank_out


def _parse_values(values: pd.Series, kind: ColumnKind):
    if kind.name == "date":
        return parse_date_column(values)
    if kind.name == "text":
        return parse_text_column(values)
    if kind.name == "int":
        return parse_int_column(values)
    if kind.name == "pct":
        return parse_vat_column(values)
    return parse_scaled_column(values, kind.decimals)


def _column(values, missing: np.ndarray, kind: ColumnKind):
    if kind.name == "date":
        return pd.Series(values).where(~missing).to_numpy(dtype="datetime64[s]")
    if kind.name == "text":
        if isinstance(values, pd.Categorical):
            return values
        return pd.Series(values, dtype=object).where(~missing, None).astype("category")
    values = np.asarray(values, dtype=np.int64)
    if not missing.any():
        return values
    return pd.arrays.IntegerArray(np.where(missing, 0, values), missing.copy())


def bad_value(name: str, kind: ColumnKind, value) -> Message:
    """Why a value of field ``name`` is bad: a number finer than the field keeps says so (it is never
    rounded: SPEC §6), anything else what was expected."""
    if isinstance(value, float) and value != value:
        return msg("{field} is NaN, not a number: a calculation failed where the export was made; give {expected}",
                   field=name, expected=EXPECTED[kind.name])
    if kind.name not in ("text", "date", "int"):
        try:
            number = parse_decimal(value)
        except MoneyError:
            pass
        else:
            places = decimals_of(EXCEL_DIGITS.plus(number) if isinstance(value, float) else number)
            if places > kind.decimals:
                return msg("{field} {value} has {places} decimals; {field} keeps {decimals} and is never rounded: "
                           "give it with at most {decimals}", field=name, value=shown(value), places=places,
                           decimals=kind.decimals)
    return msg("{field} {value} is not {expected}", field=name, value=shown(value), expected=EXPECTED[kind.name])


def shown(value) -> str:
    """A cell's value as the user would recognise it: text quoted, numbers (Decimals too) as they read."""
    if isinstance(value, Decimal):
        return str(value)
    return repr(value.strip() if isinstance(value, str) else value)


def _keep_decimals(arrow_type):
    """Decimals stay Arrow decimals (parsed exactly from their unscaled integers), never Python Decimals or floats."""
    import pyarrow as pa

    return pd.ArrowDtype(arrow_type) if pa.types.is_decimal(arrow_type) else None
