"""Benchmark: ``erp-plugin report rfm`` and ``report churn`` over priced lines, beside DuckDB computing the RFM.

    python scripts/bench_price.py --sizes 10000000     # first: priced lines in big/10000000/priced.parquet
    python scripts/bench_reports.py --data big/10000000 --work /tmp/reports
                                                        # pip install -e '.[bench]' for DuckDB

A nightly batch prices the export once (``erp-plugin price --out priced.parquet``)
and reports from it: the reports read back only date, doc_id, client_id and
net. Without a priced parquet in ``--data`` the export there is priced first
(its time shown apart, not in the reports'). Each report runs as a user runs
it, as a command (interpreter start, imports and the 100 000-client tariff
workbook included), writing parquet into ``--work``; the target is ≤ 30 s for
the two together.

The baseline is DuckDB computing the same RFM in one SQL query on both cores:
each document's net, the sale documents (net > 0), recency, frequency and
monetary over the 12 months to the last date, the scores by rank (1 + 5 ×
(rank − 1) ÷ n: ties alike, as SPEC §10) and the segment. Then the product's
rfm table is compared with DuckDB's, client by client. (DuckDB has no BG/NBD
fit; churn is timed against the target alone.)
"""

from __future__ import annotations

import argparse
from pathlib import Path

from benchjobs import ERP_PLUGIN, alternating, command, run, seconds

DUCKDB_RFM = """
import json, resource, sys, time
import duckdb
con = duckdb.connect()
con.execute("SET threads TO 2")
started = time.perf_counter()
con.execute(f'''
COPY (
  WITH span AS (SELECT max(date) AS d FROM read_parquet('{sys.argv[1]}')),
  l AS (SELECT client_id, doc_id, date, net FROM read_parquet('{sys.argv[1]}'), span
        WHERE date > span.d - INTERVAL 12 MONTH AND date <= span.d),
  docs AS (SELECT client_id, doc_id, max(date) AS day, sum(net) AS net FROM l GROUP BY client_id, doc_id),
  sales AS (SELECT client_id, max(day) AS last, count(*) AS frequency FROM docs WHERE net > 0 GROUP BY client_id),
  money AS (SELECT client_id, sum(net) AS monetary FROM l GROUP BY client_id),
  c AS (SELECT s.client_id, date_diff('day', s.last, (SELECT d FROM span)) AS recency_days, s.frequency, m.monetary
        FROM sales s JOIN money m USING (client_id)),
  n AS (SELECT count(*) AS n FROM c),
  scored AS (
    SELECT client_id, recency_days, frequency, monetary,
           1 + (5 * (rank() OVER (ORDER BY recency_days DESC) - 1)) // n AS r,
           1 + (5 * (rank() OVER (ORDER BY frequency) - 1)) // n AS f,
           1 + (5 * (rank() OVER (ORDER BY monetary) - 1)) // n AS m
    FROM c, n)
  SELECT *, CASE WHEN r = 5 AND f >= 4 THEN 'champions' WHEN r IN (3, 4) AND f >= 4 THEN 'loyal'
                 WHEN r >= 4 AND f IN (2, 3) THEN 'potential_loyalist' WHEN r = 5 AND f = 1 THEN 'new'
                 WHEN r = 4 AND f = 1 THEN 'promising' WHEN r = 3 AND f = 3 THEN 'need_attention'
                 WHEN r = 3 AND f <= 2 THEN 'about_to_sleep' WHEN r <= 2 AND f = 5 THEN 'cant_lose'
                 WHEN r <= 2 AND f >= 3 THEN 'at_risk' ELSE 'hibernating' END AS segment
  FROM scored
) TO '{sys.argv[2]}' (FORMAT parquet)
''')
print(json.dumps({"seconds": time.perf_counter() - started,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

COMPARE = """
import json, sys
import duckdb
row = duckdb.connect().execute(f'''
  SELECT count(*), count(*) FILTER (WHERE d.client_id IS NULL OR p.recency_days <> d.recency_days
         OR p.frequency <> d.frequency OR p.monetary <> d.monetary OR p.r <> d.r OR p.f <> d.f OR p.m <> d.m
         OR p.segment <> d.segment),
         (SELECT count(*) FROM read_parquet('{sys.argv[2]}'))
  FROM read_parquet('{sys.argv[1]}') p LEFT JOIN read_parquet('{sys.argv[2]}') d USING (client_id)
''').fetchone()
print(json.dumps({"clients": row[0], "different": row[1], "duckdb_clients": row[2]}))
"""

MODEL = """
import json, sys
import pandas as pd
print(json.dumps(pd.read_parquet(sys.argv[1]).iloc[0].astype(float).to_dict()))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("big") / "10000000",
                        help="holds tariffs.xlsx and priced.parquet (or export.parquet, priced first)")
    parser.add_argument("--work", type=Path, help="where the outputs go (default: --data)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each job, taking turns; the median is shown")
    args = parser.parse_args()
    work = args.work or args.data
    work.mkdir(parents=True, exist_ok=True)
    tariffs, priced = args.data / "tariffs.xlsx", args.data / "priced.parquet"
    if not priced.exists():
        priced = work / "priced.parquet"
        done = run(*command(ERP_PLUGIN, "price", args.data / "export.parquet", "--tariffs", tariffs, "--out", priced))
        print(f"priced {args.data / 'export.parquet'} first: {done['seconds']:.1f} s (not in the reports' times)")
    rfm_out, churn_out, duck_out = work / "rfm.parquet", work / "churn.parquet", work / "rfm_duckdb.parquet"
    rfm, churn, duck = alternating([
        command(ERP_PLUGIN, "report", "rfm", priced, "--tariffs", tariffs, "--out", rfm_out),
        command(ERP_PLUGIN, "report", "churn", priced, "--tariffs", tariffs, "--out", churn_out),
        (DUCKDB_RFM, priced, duck_out),
    ], args.repeat)
    same = run(COMPARE, rfm_out, duck_out)
    model = run(MODEL, work / "churn.churn_model.parquet")
    print(f"{priced}: {same['clients']:,} clients scored; seconds: the median of {args.repeat} run(s) (each run)")
    print(f"{'job':<44}{'seconds':>16}{'peak MB':>9}")
    print(f"{'erp-plugin report rfm':<44}{seconds(rfm):>16}{rfm['peak_mb']:>9.0f}")
    print(f"{'erp-plugin report churn':<44}{seconds(churn):>16}{churn['peak_mb']:>9.0f}")
    print(f"{'DuckDB RFM (one query, 2 threads)':<44}{seconds(duck):>16}{duck['peak_mb']:>9.0f}")
    total = rfm["seconds"] + churn["seconds"]
    print(f"rfm + churn {total:.1f} s (target <= 30 s); rfm against DuckDB's query {rfm['seconds'] / duck['seconds']:.2f}x; "
          f"clients whose RFM differs from DuckDB's: {same['different']} of {same['clients']:,} "
          f"(DuckDB scored {same['duckdb_clients']:,})")
    print("churn model: " + ", ".join(f"{k} {v:.6g}" for k, v in model.items()))


if __name__ == "__main__":
    main()
