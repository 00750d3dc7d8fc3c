"""Benchmark: year-end rebates over priced lines, beside DuckDB doing the same in SQL.

    python scripts/bench_price.py --sizes 10000000     # first: priced lines in big/10000000/priced.parquet
    python scripts/bench_rebates.py                     # then this (pip install -e '.[bench]' for DuckDB)

Both jobs read the priced parquet, compute each client's turnover, the
retroactive rebate on the workbook's scale, split it over the client's lines
with net > 0 by largest remainder (ties to the earlier line), and write the
per-line rebate to parquet. Each runs in its own process; then their per-line
rebates are compared: they must be equal to the kopeck.

The product's job is a batch script's, as a user writes one (``read_priced`` +
``year_end``: no command line does a year end over lines priced earlier), so it
runs without the command line's allocator tuning (memory.py), like any library
call. Both sides read the tariff workbook before their clocks start.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from benchjobs import alternating, run, seconds

PRODUCT_JOB = """
import json, resource, sys, time
import pyarrow as pa, pyarrow.parquet as pq
from erp_plugin import jobs
from erp_plugin.period.rebates import year_end
book = jobs.load_tariffs(sys.argv[2])
started = time.perf_counter()
lines = jobs.read_priced(sys.argv[1], book, columns=["source_row", "date", "doc_id", "client_id", "net", "vat"])
result = year_end(lines, book, int(sys.argv[4]))
pq.write_table(pa.table({"source_row": lines["source_row"].to_numpy(), "rebate": result.lines["rebate"].to_numpy()}),
               sys.argv[3])
print(json.dumps({"seconds": time.perf_counter() - started, "lines": len(lines),
                  "rebate": int(result.rebates.frame["rebate"].sum()),
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

DUCKDB_JOB = """
import json, resource, sys, time
import duckdb, pandas as pd
from erp_plugin import jobs
from erp_plugin.money import pct_to_scaled
from erp_plugin.period.rebates import FiscalYear
book = jobs.load_tariffs(sys.argv[2])
fy = FiscalYear.of(book, int(sys.argv[4]))
scale = pd.DataFrame([(s.from_turnover, pct_to_scaled(s.rebate_pct)) for s in book.rebate_scale],
                     columns=["from_turnover", "pct"])
con = duckdb.connect()
con.execute("SET threads TO 2")
con.register("scale", scale)
started = time.perf_counter()
con.execute(f'''
COPY (
  WITH l AS (
    SELECT source_row, client_id, CAST(net * 100 AS BIGINT) AS net
    FROM read_parquet('{sys.argv[1]}') WHERE date BETWEEN DATE '{fy.start}' AND DATE '{fy.end}'
  ), t AS (
    SELECT client_id, sum(net) AS turnover FROM l GROUP BY client_id
  ), r AS (
    SELECT t.client_id, CASE WHEN t.turnover > 0
             THEN (t.turnover::HUGEINT * s.pct * 2 + 1000000) // 2000000 ELSE 0 END AS rebate
    FROM t ASOF JOIN scale s ON t.turnover >= s.from_turnover
  ), w AS (
    SELECT l.source_row, l.client_id, l.net, r.rebate, sum(l.net) OVER (PARTITION BY l.client_id) AS weight
    FROM l JOIN r USING (client_id) WHERE l.net > 0
  ), a AS (
    SELECT *, (rebate * net) // weight AS share, (rebate * net) % weight AS remainder FROM w
  ), b AS (
    SELECT *, rebate - sum(share) OVER (PARTITION BY client_id) AS left_over,
           row_number() OVER (PARTITION BY client_id ORDER BY remainder DESC, source_row) AS place
    FROM a
  )
  SELECT source_row, CAST(share + CASE WHEN place <= left_over THEN 1 ELSE 0 END AS BIGINT) AS rebate FROM b
) TO '{sys.argv[3]}' (FORMAT parquet)
''')
print(json.dumps({"seconds": time.perf_counter() - started,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

COMPARE_JOB = """
import json, sys
import duckdb
row = duckdb.connect().execute(f'''
  SELECT count(*), count(*) FILTER (WHERE coalesce(d.rebate, 0) <> p.rebate), sum(p.rebate)
  FROM read_parquet('{sys.argv[1]}') p LEFT JOIN read_parquet('{sys.argv[2]}') d USING (source_row)
''').fetchone()
print(json.dumps({"lines": row[0], "different": row[1], "total": int(row[2])}))
"""



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("big") / "10000000")
    parser.add_argument("--year", type=int, default=2026)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each job, taking turns; the median is shown")
    args = parser.parse_args()
    priced, tariffs = args.data / "priced.parquet", args.data / "tariffs.xlsx"
    if not priced.exists():
        raise SystemExit(f"{priced} is missing: run scripts/bench_price.py first")
    product, duck = alternating([(PRODUCT_JOB, priced, tariffs, args.data / "rebates.parquet", args.year),
                                 (DUCKDB_JOB, priced, tariffs, args.data / "rebates_duckdb.parquet", args.year)], args.repeat)
    same = run(COMPARE_JOB, args.data / "rebates.parquet", args.data / "rebates_duckdb.parquet")
    print(f"{product['lines']:,} priced lines, fiscal year {args.year}; seconds: the median of {args.repeat} runs (each run)")
    print(f"{'job':<36}{'seconds':>24}{'peak MB':>9}")
    print(f"{'erp-plugin year-end rebates':<36}{seconds(product):>24}{product['peak_mb']:>9.0f}")
    print(f"{'DuckDB rebate + largest remainder':<36}{seconds(duck):>24}{duck['peak_mb']:>9.0f}")
    print(f"ratio {product['seconds'] / duck['seconds']:.2f} (target <= 1.5; target time <= 30 s); "
          f"lines whose rebate differs from DuckDB's: {same['different']} of {same['lines']:,}; "
          f"rebates in all {same['total']:,} kopecks")

if __name__ == "__main__":
    main()
