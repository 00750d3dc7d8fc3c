"""The lines frame, declared: one row per export line, every number an exact integer with a known scale.

Readers (and ``conform`` for a frame a user hands over) produce it, line plugins
add columns to it, writers render it. Every column the pipeline reads or adds is
declared here once — its kind (which gives the scale), what it means and who adds
it — so a plugin can rely on what it reads and the runner can check what it adds.

How each kind is held:

* ``text``: a pandas Categorical of ``str`` (blank: missing). Work is per distinct
  value and spread by the category codes.
* ``date``: ``datetime64[s]``.
* ``int``, ``money``, ``qty``, ``price``, ``pct``, ``percent``: int64 scaled by
  ``10**decimals`` — money in minor units, quantities in thousandths (1C keeps
  three decimals), unit prices in ten-thousandths of the currency unit (a bolt's
  price can have more decimals than money), percentages at ``PCT_SCALE``. An
  optional export field that has blanks is pandas nullable ``Int64``.
* ``sign`` and ``code``: small numpy integers; ``flag``: bool.
"""

from __future__ import annotations

from dataclasses import dataclass

from .tables import DATE, INT, PCT, PRICE, QTY, TEXT, ColumnKind, money

SOURCE_ROW = "source_row"  # the export's own row number, as Excel shows it
EXPORT = "export"  # the ``added_by`` of the fields a reader (or conform) gives
PERCENT = ColumnKind("percent", PCT.decimals)  # a result percentage read back: any number, not a VAT rate's 0..100
CODE = ColumnKind("code")  # a number for grouping only: a pricing document, a sale's reference
SIGN = ColumnKind("sign")  # +1 on a sale line, -1 on a return line


@dataclass(frozen=True)
class LineColumn:
    """One declared column. ``kind`` None means money (its scale is the workbook's minor units)."""

    name: str
    kind: ColumnKind | None
    meaning: str
    added_by: str = EXPORT
    required: bool = False  # an export field every line must have
    result: bool = False  # written back to the user (SPEC §5's result columns)

    def kind_for(self, minor_units: int) -> ColumnKind:
        return money(minor_units) if self.kind is None else self.kind


def _export(name: str, kind: ColumnKind | None, meaning: str, required: bool = False) -> LineColumn:
    return LineColumn(name, kind, meaning, EXPORT, required)


def _result(name: str, kind: ColumnKind | None, added_by: str, meaning: str) -> LineColumn:
    return LineColumn(name, kind, meaning, added_by, result=True)


def _helper(name: str, kind: ColumnKind | None, added_by: str, meaning: str) -> LineColumn:
    return LineColumn(name, kind, meaning, added_by)


COLUMNS: tuple[LineColumn, ...] = (
    LineColumn(SOURCE_ROW, INT, "the export's own row number, as Excel shows it (1-based, header included)",
               EXPORT, required=True),
    # the canonical export fields (SPEC §6), in this order
    _export("date", DATE, "the document's date", required=True),
    _export("doc_id", TEXT, "the sales document (invoice, shipment) number", required=True),
    _export("line_no", INT, "the line's number within its document"),
    _export("client_id", TEXT, "the client's code, as in the Clients sheet", required=True),
    _export("sku", TEXT, "the product's code", required=True),
    _export("qty", QTY, "quantity in thousandths of a unit; negative on a return", required=True),
    _export("unit_price", PRICE, "price of one unit in ten-thousandths of the currency unit", required=True),
    _export("amount", None, "the line's amount as the ERP computed it (else qty × unit_price)"),
    _export("name", TEXT, "the product's name"),
    _export("category", TEXT, "the product's category"),
    _export("marker", TEXT, "the product's colour marker (blank: from the Products sheet)"),
    _export("payment", TEXT, "the purchase option paid with (blank: default_payment)"),
    _export("reservation_days", INT, "days the goods are reserved for the client"),
    _export("moneyback_days", INT, "days the client may return the goods for money"),
    _export("bonus_paid", None, "bonus points the client pays with on this line"),
    _export("coupon", TEXT, "a coupon code redeemed on the document"),
    _export("vat_rate", PCT, "the line's VAT rate in percent (blank: the Settings' or the statutory one)"),
    _export("base_doc", TEXT, "on a return line: the sale document it returns"),
    # what the line plugins add, in the order they run (SPEC §5)
    _result("gross", None, "gross", "the line's amount, else round(qty × unit_price)"),
    _helper("sign", SIGN, "gross", "+1 on a sale line, -1 on a return line (qty < 0)"),
    _helper("pricing_doc", CODE, "gross", "the pricing document: document × client × sale or return side"),
    _result("tariff", TEXT, "tariff", "the client's tariff in force on the line's date"),
    _result("bonus_mode", TEXT, "tariff", "the client's bonus mode in force on the line's date"),
    _result("marker", TEXT, "marker", "the product's marker: the export's, else the Products sheet's"),
    _helper("kit_category", TEXT, "marker", "the product's category: the Products sheet's, else the export's"),
    _result("marker_pct", PCT, "kit", "the marker's share of the tariff's kit"),
    _result("option_weight_pct", PCT, "options", "the purchase options' weight for the line"),
    _helper("payment_option", TEXT, "options", "the payment option in force (blank: default_payment)"),
    _result("kit_pct", PCT, "kit", "the kit percentage: tariff × marker × options"),
    _result("kit_discount", None, "kit", "the kit given as a discount"),
    _result("kit_bonus", None, "kit", "the kit given as bonus points"),
    _result("kit_price_discount", None, "kit", "the kit discount applied to the price"),
    _helper("coupon_pct", PCT, "coupons", "the discount % of the coupon redeemed on the line's document"),
    _helper("coupon_applied", TEXT, "coupons", "the coupon code that gives the line its discount"),
    _result("promo_discount", None, "promotions", "the promotions' and coupon's discount"),
    _result("promo_rules", TEXT, "promotions", "the promotions (and coupon) applied, by name"),
    _helper("bonus_multiplier_num", INT, "promotions", "numerator of the promotions' bonus multiplier"),
    _helper("bonus_multiplier_den", INT, "promotions", "denominator of the promotions' bonus multiplier"),
    _result("price_discount", None, "totals", "the whole discount, capped at the marker's maximum"),
    _result("net", None, "totals", "what the client pays before points: gross - price_discount"),
    _result("bonus_accrued", None, "totals", "bonus points the line earns"),
    _result("reservation_cost", None, "totals", "the cost of reserving the goods"),
    _result("vat", None, "totals", "VAT within (or on) net"),
    _result("concession_pct", PCT, "totals", "what the line gives away, in % of gross"),
    _result("matched_sale", TEXT, "returns", "on a return: the sale line it was matched to"),
    _helper("sale_ref", CODE, "returns", "the matched sale: a ledger line id, -(position + 2) in this export, -1 none"),
    _helper("return_deferred", None, "returns", "the deferred revenue a matched return takes back (IFRS 15)"),
    _result("bonus_redeemed", None, "redemption", "bonus points spent on the line"),
    _result("cash_due", None, "redemption", "what the client pays in money: net - bonus_redeemed"),
)
BY_NAME: dict[str, LineColumn] = {}
for _column in COLUMNS:  # marker is both an export field and the marker plugin's result: the later wins
    BY_NAME[_column.name] = _column

INPUT_FIELDS = tuple(c.name for c in COLUMNS if c.added_by == EXPORT and c.name != SOURCE_ROW)
REQUIRED_FIELDS = tuple(c.name for c in COLUMNS if c.required and c.name != SOURCE_ROW)
RESULT_COLUMNS = (  # SPEC §5's result columns, in the order they are written
    "gross", "tariff", "bonus_mode", "marker", "marker_pct", "option_weight_pct", "kit_pct", "kit_discount",
    "kit_bonus", "kit_price_discount", "promo_discount", "promo_rules", "price_discount", "net", "bonus_accrued",
    "reservation_cost", "vat", "bonus_redeemed", "cash_due", "concession_pct", "matched_sale",
)
assert set(RESULT_COLUMNS) == {c.name for c in COLUMNS if c.result}


def input_kinds(minor_units: int) -> dict[str, ColumnKind]:
    """The kind of every canonical export field (SPEC §6)."""
    return {c.name: c.kind_for(minor_units) for c in COLUMNS if c.added_by == EXPORT and c.name != SOURCE_ROW}


def result_kinds(minor_units: int) -> dict[str, ColumnKind]:
    """The kind of every result column, in the order they are written."""
    return {name: BY_NAME[name].kind_for(minor_units) for name in RESULT_COLUMNS}


def declared(name: str) -> LineColumn | None:
    return BY_NAME.get(name)


def with_columns(lines, **columns):
    """``lines`` with ``columns`` added (at the end) or replaced (in place), without copying any array.

    DataFrame.assign copies every new array and may consolidate the frame's blocks:
    at ten million lines that is up to half a second a call, and every plugin adds
    columns. Here the arrays are shared; copy-on-write keeps them read-only, so
    nothing can change them behind either frame's back.
    """
    import pandas as pd

    kept = {name: columns.pop(name) if name in columns else lines[name] for name in lines.columns}
    return pd.DataFrame({**kept, **columns}, index=lines.index, copy=False)
