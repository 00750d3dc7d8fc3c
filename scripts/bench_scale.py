"""Benchmark: big exports priced on the Dask engine, beside the in-process engine and DuckDB's core-rules query.

    pip install -e '.[bench]'                          # DuckDB, for the comparison
    python scripts/bench_scale.py                      # 10M, 30M and 100M lines (generated under ./big/scale)
    python scripts/bench_scale.py --sizes 2000000 10000000 --local-up-to 10000000

For each size: the export is generated a million lines at a time (never whole in
memory), then each job runs as a user runs it, in its own process, timed whole
with the peak memory of its largest process (the command's or a worker's: Dask's
nanny waits for its workers, so they count among the command's children):

* ``erp-plugin price … --engine dask --workers 2`` with every rule, into a parquet dataset;
* ``erp-plugin price …`` in process with every rule (up to ``--local-up-to`` lines: above
  that it would not fit this machine), and the two compared on every column of every line;
* ``erp-plugin rebates … --year 2026 --engine dask --workers 2``: priced and rebated, bucket by bucket;
* DuckDB computing the core rules in one query over the same file (bench_price's job).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from bench_price import DUCKDB_JOB
from benchjobs import ERP_PLUGIN, command, run

SAME_JOB = """
import json, sys
import duckdb
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
columns = [c[0] for c in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{sys.argv[2]}')").fetchall()]
differ = " OR ".join(f'd."{c}" IS DISTINCT FROM l."{c}"' for c in columns if c != "source_row")
row = con.execute(f'''
  SELECT count(*), count(*) FILTER (WHERE {differ})
  FROM read_parquet('{sys.argv[1]}/*.parquet') d FULL JOIN read_parquet('{sys.argv[2]}') l USING (source_row)
''').fetchone()
print(json.dumps({"lines": row[0], "different": row[1]}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000_000, 30_000_000, 100_000_000])
    parser.add_argument("--data", type=Path, default=Path("big/scale"))
    parser.add_argument("--local-up-to", type=int, default=10_000_000, help="largest size priced in process too")
    args = parser.parse_args()
    rows = []
    for size in args.sizes:
        folder = args.data / f"{size}"
        export = folder / "export.parquet"
        if not export.exists():
            subprocess.run([sys.executable, str(Path(__file__).with_name("make_big_export.py")), "--lines", str(size),
                            "--chunk", "1000000", "--out", str(folder)], check=True)
        dask = run(*command(ERP_PLUGIN, "price", export, "--tariffs", folder / "tariffs.xlsx", "--out",
                            folder / "dask.parquet", "--engine", "dask", "--workers", "2"))
        rebated = run(*command(ERP_PLUGIN, "rebates", export, "--tariffs", folder / "tariffs.xlsx", "--year", "2026",
                               "--out", folder / "rebated.parquet", "--engine", "dask", "--workers", "2"))
        local = same = None
        if size <= args.local_up_to:
            local = run(*command(ERP_PLUGIN, "price", export, "--tariffs", folder / "tariffs.xlsx", "--out",
                                 folder / "local.parquet"))
            same = run(SAME_JOB, folder / "dask.parquet", folder / "local.parquet")
        duck = run(DUCKDB_JOB, export, folder / "tariffs_core.xlsx", folder / "duckdb_core.parquet")
        rows.append((size, dask, rebated, local, duck, same))
    print(f"{'lines':>12} {'job':<44} {'seconds':>9} {'largest process MB':>19}")
    for size, dask, rebated, local, duck, same in rows:
        print(f"{size:>12,} {'price, every rule, Dask engine (2 workers)':<44} {dask['seconds']:>9.1f} {dask['peak_mb']:>19.0f}")
        if local:
            print(f"{'':>12} {'price, every rule, in process':<44} {local['seconds']:>9.1f} {local['peak_mb']:>19.0f}")
        print(f"{'':>12} {'rebates, every rule, Dask engine (2 workers)':<44} {rebated['seconds']:>9.1f} "
              f"{rebated['peak_mb']:>19.0f}")
        print(f"{'':>12} {'DuckDB query, core rules':<44} {duck['seconds']:>9.1f} {duck['peak_mb']:>19.0f}")
        if same:
            print(f"{'':>12} lines whose figures differ between the engines: {same['different']} of {same['lines']:,}")


if __name__ == "__main__":
    main()
