"""Benchmark: price big exports parquet -> parquet, beside DuckDB running the core rules as one SQL query.

    pip install -e '.[bench]'                     # DuckDB, for the comparison
    python scripts/bench_price.py                 # 1M and 10M lines (generates them under ./big)
    python scripts/bench_price.py --sizes 1000000

For each size: ``erp-plugin price EXPORT --tariffs T --out priced.parquet`` as a
user runs it, with every rule on (tariffs.xlsx: all promotion kinds, coupons),
then with only the core rules (tariffs_core.xlsx: tariff × marker − options,
bonus split, reservation cost), then DuckDB computing those core rules in one
query over the same parquet and writing parquet. Each job runs in its own
process; its wall time and peak memory are printed. Both sides are timed whole:
the product's command from its start (imports, the 100 000-client tariff
workbook read, pricing, writing), DuckDB's job from its start too (imports, the
same workbook read into its lookup tables, the query). DuckDB's core figures are
then compared with the product's, line by line: they must be equal to the
kopeck. Returns matched to their sale (SPEC §5 Returns) take that sale's
figures, which the one-query SQL does not do: they are counted apart.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from benchjobs import ERP_PLUGIN, alternating, command, run, seconds

DUCKDB_JOB = """
import json, resource, sys, time
started = time.perf_counter()
import duckdb, pandas as pd
from erp_plugin import jobs
from erp_plugin.money import pct_to_scaled
book = jobs.load_tariffs(sys.argv[2])
s = book.settings
clients = pd.DataFrame({"client_id": list(book.clients),
                        "tariff": [c.tariff or "BASE" for c in book.clients.values()],
                        "mode": [c.bonus_mode or "discount" for c in book.clients.values()]})
kit = pd.DataFrame([(t, m, pct_to_scaled(p)) for t, tariff in book.tariffs.items() for m, p in tariff.discounts],
                   columns=["tariff", "marker", "pct"])
share = pd.DataFrame([(m, pct_to_scaled(b.bonus_share_pct)) for m, b in book.bonus_modes.items()], columns=["mode", "share"])
products = pd.DataFrame([(p.sku, p.marker) for p in book.products.values() if p.marker], columns=["sku", "marker"])
def brackets(option):
    rows = sorted(book.option_values(option), key=lambda o: o.value)
    return pd.DataFrame([(d, next(pct_to_scaled(o.weight_pct) for o in rows if o.value >= d))
                         for d in range(0, rows[-1].value + 1)], columns=["days", "w"])
reserve, moneyback = brackets("reservation_days"), brackets("moneyback_days")
payment = pd.DataFrame([(str(o.value), pct_to_scaled(o.weight_pct)) for o in book.option_values("payment")],
                       columns=["payment", "w"])
carrying = pct_to_scaled(s.carrying_rate_pct)
con = duckdb.connect()
con.execute("SET threads TO 2")
tables = dict(clients=clients, kit=kit, share=share, reserve=reserve, moneyback=moneyback, payment=payment, products=products)
for name, frame in tables.items():
    con.register(name, frame)
con.execute(f'''
COPY (
  WITH priced AS (
    SELECT e.*, CAST(e.amount * 100 AS BIGINT) AS gross,
           GREATEST(0, k.pct - r.w - m.w - p.w) AS kit_pct, sh.share
    FROM read_parquet('{sys.argv[1]}') e
    LEFT JOIN clients c ON c.client_id = e.client_id
    LEFT JOIN products pr ON pr.sku = e.sku
    JOIN kit k ON k.tariff = COALESCE(c.tariff, 'BASE') AND k.marker = COALESCE(pr.marker, e.marker, 'white')
    JOIN share sh ON sh.mode = COALESCE(c.mode, 'discount')
    JOIN reserve r ON r.days = COALESCE(e.reservation_days, 0)
    JOIN moneyback m ON m.days = COALESCE(e.moneyback_days, 0)
    JOIN payment p ON p.payment = e.payment
  ), kit_figures AS (
    SELECT *, sign(gross) * ((abs(gross)::HUGEINT * kit_pct * 2 + 1000000) // 2000000) AS kit_discount FROM priced
  ), bonus AS (
    SELECT *, sign(kit_discount) * ((abs(kit_discount) * share * 2 + 1000000) // 2000000) AS kit_bonus FROM kit_figures
  )
  SELECT *, kit_discount - kit_bonus AS kit_price_discount,
         sign(gross - kit_discount + kit_bonus) * ((abs(gross - kit_discount + kit_bonus) * {carrying}
           * COALESCE(reservation_days, 0) * 2 + 365000000) // 730000000) AS reservation_cost
  FROM bonus
) TO '{sys.argv[3]}' (FORMAT parquet)
''')
print(json.dumps({"seconds": time.perf_counter() - started,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

COMPARE_JOB = """
import json, sys
import duckdb
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")  # its bar would be on stdout, before the result line
row = con.execute(f'''
  SELECT count(*) FILTER (WHERE p.matched_sale IS NULL) AS lines,
         count(*) FILTER (WHERE p.matched_sale IS NULL AND (round(p.kit_discount * 100) <> d.kit_discount
                             OR round(p.kit_bonus * 100) <> d.kit_bonus
                             OR round(p.reservation_cost * 100) <> d.reservation_cost)) AS different,
         count(*) FILTER (WHERE p.matched_sale IS NOT NULL) AS matched
  FROM read_parquet('{sys.argv[1]}') p JOIN read_parquet('{sys.argv[2]}') d
    ON p.doc_id = d.doc_id AND p.line_no = d.line_no
''').fetchone()
print(json.dumps({"lines": row[0], "different": row[1], "matched": row[2]}))
"""



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--data", type=Path, default=Path("big"))
    parser.add_argument("--repeat", type=int, default=1, help="runs of each job, taking turns; the median is shown")
    args = parser.parse_args()
    rows = []
    for size in args.sizes:
        folder = args.data / f"{size}"
        if not (folder / "export.parquet").exists():
            subprocess.run([sys.executable, str(Path(__file__).with_name("make_big_export.py")), "--lines", str(size),
                            "--out", str(folder)], check=True)
        export = folder / "export.parquet"
        full, core, duck = alternating([
            command(ERP_PLUGIN, "price", export, "--tariffs", folder / "tariffs.xlsx", "--out", folder / "priced.parquet"),
            command(ERP_PLUGIN, "price", export, "--tariffs", folder / "tariffs_core.xlsx", "--out",
                    folder / "priced_core.parquet"),
            (DUCKDB_JOB, export, folder / "tariffs_core.xlsx", folder / "duckdb_core.parquet"),
        ], args.repeat)
        same = run(COMPARE_JOB, folder / "priced_core.parquet", folder / "duckdb_core.parquet")
        rows.append((size, full, core, duck, same))
    print(f"{'lines':>12} {'job':<34} {'seconds':>24} {'peak MB':>9}")
    for size, full, core, duck, same in rows:
        print(f"{size:>12,} {'erp-plugin price, every rule':<34} {seconds(full):>24} {full['peak_mb']:>9.0f}")
        print(f"{'':>12} {'erp-plugin price, core rules':<34} {seconds(core):>24} {core['peak_mb']:>9.0f}")
        print(f"{'':>12} {'DuckDB query, core rules':<34} {seconds(duck):>24} {duck['peak_mb']:>9.0f}")
        print(f"{'':>12} core / DuckDB = {core['seconds'] / duck['seconds']:.2f} (target <= 1.5); "
              f"lines whose core figures differ from DuckDB's: {same['different']} of {same['lines']:,} "
              f"(and {same['matched']:,} returns matched to their sale, which take its figures: not in the SQL)")

if __name__ == "__main__":
    main()
