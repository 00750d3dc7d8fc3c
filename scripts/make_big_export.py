"""Generate a large, realistic ERP export (parquet) and a tariff workbook to price it with.

    python scripts/make_big_export.py --lines 1000000 --out /tmp/big      # -> /tmp/big/export.parquet,
                                                                          #    tariffs.xlsx, tariffs_core.xlsx

The export: 100 000 clients (``--clients``), 50 000 SKUs with markers and 20 categories, documents
of 1–8 lines over 2026, 3 % of documents are returns, every payment method and
option bracket, bonus points paid on 0.5 % of lines, VAT 22 % (10 % on one
category). ``tariffs.xlsx`` turns every promotion kind on (segment discounts in an
exclusive group, prepayment, every 3rd item, a bundle, double points in a window, a
tier discount) and a coupon rule; ``tariffs_core.xlsx`` has only the core rules
(tariff × marker − options, bonus split, reservation cost), for the DuckDB
comparison. Deterministic for a given --seed.
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute  # noqa: F401 - pa.compute
import pyarrow.parquet as pq

from erp_plugin.output.write import decimal_array

CLIENTS = 100_000
SKUS = 50_000
CATEGORIES = 20
MARKERS = np.array(["white", "green", "yellow", "red"])
PAYMENTS = np.array(["prepaid", "on_delivery", "deferral_30", "deferral_60"])


def labels(prefix: str, count: int, width: int, first: int = 1) -> pa.Array:
    return pa.array(np.char.add(prefix, np.char.zfill(np.arange(first, first + count).astype(str), width)))


def text(indices: np.ndarray, values: pa.Array) -> pa.Array:
    """Plain strings, as an ERP writes them (parquet then keeps a dictionary per row group)."""
    return values.take(pa.array(indices.astype(np.int32)))


def export_table(lines: int, seed: int, first_doc: int = 1, clients: int = CLIENTS) -> pa.Table:
    """``lines`` lines of documents numbered from ``first_doc`` (a chunk of a bigger export starts after the
    documents of the chunks before it), bought by ``clients`` clients."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 9, size=lines // 4 + 10)
    ends = np.cumsum(sizes)
    docs = int(np.searchsorted(ends, lines) + 1)
    doc_of_line = np.repeat(np.arange(docs), sizes[:docs])[:lines]
    doc_client = rng.integers(0, clients, size=docs)
    doc_day = rng.integers(0, 365, size=docs)
    doc_return = rng.random(docs) < 0.03
    doc_payment = rng.integers(0, len(PAYMENTS), size=docs)
    doc_moneyback = rng.choice(np.array([0, 14, 30]), size=docs)
    sku = np.minimum((rng.pareto(1.2, size=lines) * 500).astype(np.int64), SKUS - 1)
    sku_price = rng.integers(1_000, 5_000_000, size=SKUS)  # kopecks
    sku_marker = rng.choice(len(MARKERS), size=SKUS, p=[0.4, 0.25, 0.2, 0.15])
    sku_category = rng.integers(0, CATEGORIES, size=SKUS)
    qty = rng.choice(np.array([1, 1, 2, 3, 5, 10, 20, 50]), size=lines)
    qty = np.where(doc_return[doc_of_line], -qty, qty)
    price = sku_price[sku]
    amount = qty * price
    paid = np.where(rng.random(lines) < 0.005, rng.integers(100, 50_000, size=lines), 0)
    no_missing = np.zeros(lines, dtype=bool)
    dates = (np.datetime64(date(2026, 1, 1)) + doc_day[doc_of_line].astype("timedelta64[D]")).astype("datetime64[D]")
    category_names = labels("Категория ", CATEGORIES, 2)
    return pa.table({
        "date": pa.array(dates, type=pa.date32()),
        "doc_id": text(doc_of_line, labels("D", docs, 9, first_doc)),
        "line_no": pa.array(np.arange(lines) - np.searchsorted(doc_of_line, doc_of_line) + 1),
        "client_id": text(doc_client[doc_of_line], labels("C", clients, 6)),
        "sku": text(sku, labels("SKU-", SKUS, 5)),
        "category": text(sku_category[sku], category_names),
        "marker": text(sku_marker[sku], pa.array(MARKERS)),
        "qty": pa.array(qty),
        "unit_price": decimal_array(price, no_missing, 2, pa),
        "amount": decimal_array(amount, no_missing, 2, pa),
        "payment": text(doc_payment[doc_of_line], pa.array(PAYMENTS)),
        "reservation_days": pa.array(rng.choice(np.array([0, 0, 3, 7, 14]), size=lines)),
        "moneyback_days": pa.array(doc_moneyback[doc_of_line]),
        "bonus_paid": decimal_array(paid, paid == 0, 2, pa),
        "vat_rate": pa.array(np.where(sku_category[sku] == 7, 10, 22)),
    })


def tariff_workbooks(folder: Path, seed: int, count: int = CLIENTS) -> None:
    from openpyxl import load_workbook

    from erp_plugin.output.template import write_template

    rng = np.random.default_rng(seed + 1)
    write_template(folder / "tariffs.xlsx")
    wb = load_workbook(folder / "tariffs.xlsx")
    clients = wb["Clients"]
    clients.delete_rows(2, clients.max_row)
    tariffs = ["BASE", "START", "BUSINESS", "PRO", "PREMIUM", "MAX", None]
    modes = ["bonus", "half", "discount", None]
    joined = rng.integers(0, 1500, size=count)
    start = date(2023, 1, 1).toordinal()
    for i in range(count):
        clients.append([
            f"C{i + 1:06d}", tariffs[i % 7], modes[i % 4], date.fromordinal(start + int(joined[i])),
            None, None, "regular" if i % 3 == 0 else None, ("bronze", "silver", "gold")[i % 3],
        ])
    promotions = wb["Promotions"]
    promotions.delete_rows(2, promotions.max_row)
    for rule in (
        ("REG5", "discount_pct", 5, None, None, "regular", None, None, None, None, None, None, None, "segment", 1),
        ("NEW2", "discount_pct", 2, None, None, "new", None, None, None, None, None, None, None, "segment", 2),
        ("PREPAY1", "discount_pct", 1, None, None, None, None, None, None, "prepaid", None, None, None, None, 0),
        ("NTH3", "discount_pct", 50, None, None, None, None, None, "Категория 03", None, None, None, 3, None, 0),
        ("BUNDLE", "discount_pct", 50, None, None, None, None, "SKU-00002", None, None, None, "SKU-00001", None, None, 0),
        ("X2-RED", "bonus_multiplier", 2, date(2026, 11, 1), date(2026, 12, 31), None, "red", None, None, None, None,
         None, None, None, 0),
        ("GOLD1", "discount_pct", 1, None, None, "tier:gold", None, None, None, None, 10, None, None, None, 0),
    ):
        promotions.append(list(rule))
    products = wb["Products"]
    products.delete_rows(2, products.max_row)
    products.append(["SKU-00001", "green", "Категория 01"])
    products.append(["SKU-00002", "red", "Категория 02"])
    for name in ("Quests", "TariffChanges"):
        wb[name].delete_rows(2, wb[name].max_row)
    settings = wb["Settings"]
    for row in settings.iter_rows(min_row=2):
        if row[0].value == "on_overdraw":
            row[1].value = "cap"
    wb.save(folder / "tariffs.xlsx")
    for name in ("Promotions", "CouponRules"):
        sheet = wb[name]
        sheet.delete_rows(2, sheet.max_row)
    wb.save(folder / "tariffs_core.xlsx")


def write_in_chunks(path: Path, lines: int, chunk: int, seed: int, clients: int = CLIENTS) -> None:
    """The export written ``chunk`` lines at a time, each chunk's documents numbered after the ones before
    (a chunk's last document may be cut short: it goes on with the next number)."""
    writer, first_doc, done = None, 1, 0
    try:
        while done < lines:
            table = export_table(min(chunk, lines - done), seed + done // chunk, first_doc, clients)
            writer = writer or pq.ParquetWriter(path, table.schema)
            writer.write_table(table, row_group_size=chunk)
            first_doc += len(pa.compute.unique(table.column("doc_id")))
            done += table.num_rows
    finally:
        if writer is not None:
            writer.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=Path("big"))
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--clients", type=int, default=CLIENTS, help="clients in the export and the Clients sheet")
    parser.add_argument("--chunk", type=int, default=0,
                        help="write the export this many lines at a time (a row group each), never whole in memory")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.chunk:
        write_in_chunks(args.out / "export.parquet", args.lines, args.chunk, args.seed, args.clients)
    else:
        pq.write_table(export_table(args.lines, args.seed, clients=args.clients), args.out / "export.parquet",
                       row_group_size=1_000_000)
    tariff_workbooks(args.out, args.seed, args.clients)
    print(f"wrote {args.out / 'export.parquet'} ({args.lines:,} lines), tariffs.xlsx, tariffs_core.xlsx")


if __name__ == "__main__":
    main()
