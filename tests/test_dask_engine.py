"""The Dask engine gives the in-process engine's figures, to the kopeck (SPEC §9 ``--engine dask``).

A real ``distributed.LocalCluster`` of two worker processes started by the command, and a real ``dask
scheduler`` with two ``dask worker`` processes on loopback for ``--scheduler``. The export is the
benchmark generator's (every promotion kind, coupons, returns matched to their sale, bonus redemptions).
"""

import shutil
import socket
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

ERP_PLUGIN = [sys.executable, "-m", "erp_plugin"]
ROOT = Path(__file__).resolve().parents[1]
TABLES = ("summary", "markers", "coupons", "warnings")


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sample")
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make_big_export.py"), "--lines", "6000", "--clients", "2000", "--out",
                    str(folder)], check=True, capture_output=True)
    for command, out in ((["price"], "local.parquet"), (["rebates", "--year", "2026"], "local_rebates.parquet"),
                         (["accrue", "--as-of", "2026-09-30"], "local_accrue.parquet")):
        done = subprocess.run([*ERP_PLUGIN, *command, str(folder / "export.parquet"), "--tariffs",
                               str(folder / "tariffs.xlsx"), "--out", str(folder / out)], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    return folder


def same_as_local(folder: Path, out: Path, local: str = "local", tables: tuple[str, ...] = TABLES) -> None:
    """Every column of every line, and every table, equal to the in-process run's (rows and unordered
    tables compared in one order; the rest in the order written)."""
    dask_lines = ds.dataset(out, format="parquet").to_table().to_pandas().sort_values("source_row").reset_index(drop=True)
    local_lines = pq.read_table(folder / f"{local}.parquet").to_pandas().sort_values("source_row").reset_index(drop=True)
    assert list(dask_lines.columns) == list(local_lines.columns)
    assert len(dask_lines) == len(local_lines) == 6000
    for column in local_lines.columns:
        assert dask_lines[column].equals(local_lines[column]), column
    for table in tables:
        mine = pq.read_table(out.with_name(f"{out.stem}.{table}.parquet")).to_pandas()
        theirs = pq.read_table(folder / f"{local}.{table}.parquet").to_pandas()
        if table in ("coupons", "warnings"):
            mine, theirs = (t.sort_values(list(t.columns)).reset_index(drop=True) for t in (mine, theirs))
        pd.testing.assert_frame_equal(mine, theirs, check_exact=True)


def test_a_local_cluster_of_two_processes_prices_as_the_local_engine(sample, posted_locally, tmp_path):
    """Priced on the cluster and posted to an SQLite ledger from the command: the lines and tables are those
    of the in-process run against an empty ledger, and the ledger holds what that run posted; the same
    export again posts nothing new and says so."""
    out, ledger = tmp_path / "priced.parquet", tmp_path / "ledger.sqlite"
    command = [*ERP_PLUGIN, "price", str(sample / "export.parquet"), "--tariffs", str(sample / "tariffs.xlsx"),
               "--out", str(out), "--engine", "dask", "--workers", "2", "--ledger", str(ledger)]
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert out.is_dir() and len(list(out.glob("part-*.parquet"))) > 1  # a dataset of parts
    same_as_local(sample, out, "posted_price")
    said = " ".join(done.stdout.split())
    assert "Lines 6 000" in said and "ledger: 6000 new lines posted (" in said  # the summary's English labels
    mine, theirs = _ledger_contents(ledger), _ledger_contents(posted_locally["price"])
    _same_ledger(mine, theirs)
    assert mine["runs"][0] == 1 and mine["lines"][0] == 6000
    again = subprocess.run(command, capture_output=True, text=True)  # the same export again: nothing new
    assert again.returncode == 0, again.stderr
    assert ("ledger: 0 new lines posted (0 point entries); 6000 already posted and unchanged; no conflicts"
            in " ".join(again.stdout.split()))
    assert _ledger_contents(ledger)["lines"] == theirs["lines"]


def test_rebates_on_a_local_cluster_as_the_local_engine(sample, posted_locally, tmp_path, postgres_ledger):
    """Year-end rebates in client buckets: the lines' rebate and every table — per-client ones in the
    export's client order, the overviews and summary worked out from them — equal to the in-process run's.
    With a PostgreSQL ledger: every bucket priced against its opening and posted from the command in one
    transaction (COPY), the stamp-card reward lots after the lines; the ledger then holds what the
    in-process run posted into SQLite (balances on three days, lines, entries by kind)."""
    out = tmp_path / "rebated.parquet"
    command = [*ERP_PLUGIN, "rebates", str(sample / "export.parquet"), "--tariffs", str(sample / "stamps.xlsx"),
               "--year", "2026", "--out", str(out), "--engine", "dask", "--workers", "2", "--ledger", postgres_ledger]
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == sorted(p.name.replace("posted_rebates", "rebated") for p in sample.glob("posted_rebates*"))
    same_as_local(sample, out, "posted_rebates", ("rebates", "credit_notes", "coupons", "tiers", "stamps", "quests",
                                                  "turnover_steps", "rebate_by_tier", "summary", "warnings"))
    assert pq.read_table(out.with_name("rebated.rebates.parquet")).num_rows > 100  # clients of every bucket
    assert "fiscal year 2026" in done.stdout
    mine, theirs = _ledger_contents(postgres_ledger), _ledger_contents(posted_locally["rebates"])
    _same_ledger(mine, theirs)
    rewards = dict((kind, (count, amount)) for kind, count, amount in mine["entries"])["reward"]
    assert rewards[0] > 100 and rewards[1] == rewards[0] * 100_000  # 1 000.00 points a completed column
    said = " ".join(done.stdout.split())
    assert "ledger: 6000 new lines posted (" in said and f"; {rewards[0]} new reward lots" in said


def test_accruals_on_a_local_cluster_as_the_local_engine(sample, tmp_path):
    out = tmp_path / "accrued.parquet"
    done = subprocess.run([*ERP_PLUGIN, "accrue", str(sample / "export.parquet"), "--tariffs", str(sample / "tariffs.xlsx"),
                           "--as-of", "2026-09-30", "--out", str(out), "--engine", "dask", "--workers", "2"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    same_as_local(sample, out, "local_accrue", ("accruals", "warnings"))
    assert "as of 30.09.2026" in done.stdout


def test_impact_on_a_local_cluster_as_the_local_engine(sample, tmp_path):
    """impact of PRO's red discount one point lower (8 % -> 7 %), the export read, priced and rebated under
    both workbooks bucket by bucket: every table equal to the in-process run's; the concession falls."""
    import openpyxl

    proposed = tmp_path / "proposed.xlsx"
    book = openpyxl.load_workbook(sample / "tariffs.xlsx")
    rows = {row[0].value: row for row in book["Tariffs"].iter_rows(min_row=2)}
    assert rows["PRO"][5].value == 8  # the red column
    rows["PRO"][5].value = 7
    book.save(proposed)
    outs = {}
    for engine in ("local", "dask"):
        outs[engine] = tmp_path / f"impact_{engine}.parquet"
        done = subprocess.run([*ERP_PLUGIN, "impact", str(sample / "export.parquet"), "--tariffs",
                               str(sample / "tariffs.xlsx"), "--against", str(proposed), "--out", str(outs[engine]),
                               "--engine", engine], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    for table in ("impact", "impact_by_tariff", "impact_by_marker", "summary"):
        mine = pq.read_table(outs["dask"].with_name(f"impact_dask.{table}.parquet") if table != "impact"
                             else outs["dask"]).to_pandas()
        theirs = pq.read_table(outs["local"].with_name(f"impact_local.{table}.parquet") if table != "impact"
                               else outs["local"]).to_pandas()
        pd.testing.assert_frame_equal(mine, theirs, check_exact=True)
    summary = pq.read_table(outs["dask"].with_name("impact_dask.summary.parquet")).to_pandas().iloc[0]
    assert summary["fiscal_year"] == 2026 and summary["concession_delta"] < 0
    by_tariff = pq.read_table(outs["dask"].with_name("impact_dask.impact_by_tariff.parquet")).to_pandas()
    unchanged = by_tariff[by_tariff["tariff"] != "PRO"]
    assert (unchanged["price_discount_delta"] == 0).all()  # only PRO's terms changed


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    """The reports' sample (workbooks/sales_history.xlsx: 40 clients over two years) as a parquet export, as
    ``erp-plugin read --out`` writes it: the lines as read, with their ``source_row``."""
    out = tmp_path_factory.mktemp("history") / "history.parquet"
    done = subprocess.run([*ERP_PLUGIN, "read", str(ROOT / "workbooks" / "sales_history.xlsx"), "--tariffs",
                           str(ROOT / "workbooks" / "tariffs.xlsx"), "--out", str(out)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return out


@pytest.mark.parametrize("kind, tables", [("rfm", ("rfm", "rfm_segments")),
                                          ("churn", ("churn", "churn_model", "churn_bands", "churn_at_risk"))])
def test_reports_on_a_local_cluster_as_the_local_engine(history, tmp_path, kind, tables):
    """rfm and churn over the sample history (an export that carries its rows in ``source_row``): each
    bucket's clients' figures worked out on the cluster, scored (or the model fitted) over every client
    at once: every table equal to the in-process report's, floats too. rfm's --save-segments writes the
    same segments into a copy of the tariff workbook's Clients with either engine."""
    import openpyxl

    outs, books = {}, {}
    for engine in ("local", "dask"):
        outs[engine] = tmp_path / f"{kind}_{engine}.parquet"
        books[engine] = tmp_path / f"tariffs_{engine}.xlsx"
        shutil.copy(ROOT / "workbooks" / "tariffs.xlsx", books[engine])
        saving = ["--save-segments", str(books[engine])] if kind == "rfm" else []
        done = subprocess.run([*ERP_PLUGIN, "report", kind, str(history), "--tariffs",
                               str(ROOT / "workbooks" / "tariffs.xlsx"), "--out", str(outs[engine]),
                               "--engine", engine, *saving], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    for table in tables:
        mine, theirs = (pq.read_table(out if table == tables[0] else out.with_name(f"{out.stem}.{table}.parquet"))
                        .to_pandas() for out in (outs["dask"], outs["local"]))
        assert len(theirs) > 0, table
        pd.testing.assert_frame_equal(mine, theirs, check_exact=True)
    if kind == "rfm":
        clients = {engine: list(openpyxl.load_workbook(book)["Clients"].values) for engine, book in books.items()}
        original = list(openpyxl.load_workbook(ROOT / "workbooks" / "tariffs.xlsx")["Clients"].values)
        assert clients["dask"] == clients["local"] != original  # the segments written, the same ones


def test_birthdays_with_the_dask_engine_read_only_the_dates(sample, tmp_path):
    """birthdays needs the Clients sheet and the export's last date: the same table, no cluster started."""
    outs = {}
    for engine in ("local", "dask"):
        outs[engine] = tmp_path / f"birthdays_{engine}.parquet"
        started = time.perf_counter()
        done = subprocess.run([*ERP_PLUGIN, "report", "birthdays", str(sample / "export.parquet"), "--tariffs",
                               str(sample / "tariffs.xlsx"), "--out", str(outs[engine]), "--days", "60",
                               "--engine", engine], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    assert time.perf_counter() - started < 60
    mine, theirs = (pq.read_table(outs[e]).to_pandas() for e in ("dask", "local"))
    pd.testing.assert_frame_equal(mine, theirs, check_exact=True)


def test_a_year_without_lines_is_the_local_engines_error(sample, tmp_path):
    done = subprocess.run([*ERP_PLUGIN, "rebates", str(sample / "export.parquet"), "--tariffs", str(sample / "tariffs.xlsx"),
                           "--year", "2019", "--out", str(tmp_path / "r.parquet"), "--engine", "dask"],
                          capture_output=True, text=True)
    assert done.returncode == 2, done.stderr
    assert "no lines dated in fiscal year 2019" in " ".join(done.stderr.split())
    assert list(tmp_path.iterdir()) == []


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_existing_cluster_through_scheduler(sample, tmp_path):
    dask = shutil.which("dask", path=str(Path(sys.executable).parent))
    assert dask, "the dask command comes with dask[distributed]"
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    scheduler = subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--dashboard-address",
                                  ":0"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers = [subprocess.Popen([dask, "worker", address, "--nthreads", "1", "--dashboard-address", ":0"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(2)]
    try:
        from distributed import Client

        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=60)
        out = tmp_path / "priced.parquet"
        done = subprocess.run([*ERP_PLUGIN, "price", str(sample / "export.parquet"), "--tariffs",
                               str(sample / "tariffs.xlsx"), "--out", str(out), "--engine", "dask", "--scheduler", address],
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
        same_as_local(sample, out)
    finally:
        for process in [*workers, scheduler]:
            process.terminate()
        for process in [*workers, scheduler]:
            process.wait(timeout=30)


def test_bad_lines_in_a_bucket_come_back_with_their_rows_and_nothing_is_written(sample, tmp_path):
    import pyarrow as pa

    table = pq.read_table(sample / "export.parquet")
    qty = table.column("qty").to_pylist()
    qty[41] = None  # export row 43: a blank quantity
    broken = tmp_path / "broken.parquet"
    pq.write_table(table.set_column(table.schema.get_field_index("qty"), "qty", pa.array(qty, table.schema.field("qty").type)),
                   broken)
    out = tmp_path / "priced.parquet"
    started = time.perf_counter()
    done = subprocess.run([*ERP_PLUGIN, "price", str(broken), "--tariffs", str(sample / "tariffs.xlsx"), "--out", str(out),
                           "--engine", "dask", "--workers", "2"], capture_output=True, text=True)
    assert done.returncode == 2, done.stderr
    assert "export row 43, field qty: qty is blank" in " ".join(done.stderr.split())
    assert "Traceback" not in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.parquet"]  # no dataset, no tables, no work folder
    assert time.perf_counter() - started < 300


def test_csv_parts_and_a_workbook_hold_the_local_engines_lines(sample, tmp_path):
    """--out .csv: a folder of csv parts (one a bucket) with the tables beside it as csv; --out .xlsx (an
    export within a sheet's rows): one workbook, its Lines sheet in export-row order as the local engine's."""
    import openpyxl

    csv_out, xlsx_out, local_xlsx = tmp_path / "priced.csv", tmp_path / "priced.xlsx", tmp_path / "local.xlsx"
    for out, engine in ((csv_out, "dask"), (xlsx_out, "dask"), (local_xlsx, "local")):
        done = subprocess.run([*ERP_PLUGIN, "price", str(sample / "export.parquet"), "--tariffs",
                               str(sample / "tariffs.xlsx"), "--out", str(out), "--engine", engine],
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    parts = sorted(csv_out.glob("part-*.csv"))
    assert csv_out.is_dir() and len(parts) > 1
    lines = pd.concat([pd.read_csv(p, dtype=str, keep_default_na=False) for p in parts])
    lines = lines.sort_values("source_row", key=lambda rows: rows.astype(int)).reset_index(drop=True)
    local = pq.read_table(sample / "local.parquet").to_pandas()
    assert len(lines) == 6000 and list(lines.columns) == list(local.columns)
    assert lines["net"].map(Decimal).tolist() == local["net"].tolist()  # money as exact text: 1234.56
    assert (tmp_path / "priced.summary.csv").exists() and (tmp_path / "priced.markers.csv").exists()
    coupons = pd.read_csv(tmp_path / "priced.coupons.csv", dtype=str, keep_default_na=False)  # the buckets' parts joined
    local_coupons = pq.read_table(sample / "local.coupons.parquet").to_pandas()
    assert list(coupons.columns) == list(local_coupons.columns) and len(coupons) == len(local_coupons) > 0
    assert sorted(zip(coupons["code"], coupons["discount_pct"].map(Decimal))) == \
        sorted(zip(local_coupons["code"], local_coupons["discount_pct"]))

    def sheets(path):
        book = openpyxl.load_workbook(path, read_only=True)
        return {name: list(book[name].iter_rows(values_only=True)) for name in book.sheetnames}

    mine, local = sheets(xlsx_out), sheets(local_xlsx)
    assert len(mine["Lines"]) == 6001 and mine["Lines"] == local["Lines"]
    assert list(mine) == list(local)
    assert len(mine["Coupons"]) == 1 + len(local_coupons)
    for name in ("Coupons", "Summary", "Markers"):  # the coupons' parts read back; rows in one order
        assert mine[name][0] == local[name][0] and sorted(mine[name], key=str) == sorted(local[name], key=str), name


def test_what_the_dask_engine_does_not_take_is_said_before_any_work(sample, tmp_path):
    import pyarrow as pa

    done = subprocess.run([*ERP_PLUGIN, "price", str(sample / "export.parquet"), "--tariffs", str(sample / "tariffs.xlsx"),
                           "--out", str(tmp_path / "priced.json"), "--engine", "dask"], capture_output=True, text=True)
    assert done.returncode == 2
    assert "with the Dask engine --out is a folder of parts (.parquet or .csv)" in " ".join(done.stderr.split())
    big = tmp_path / "big.parquet"  # one line more than a sheet holds under its header
    pq.write_table(pa.table({"client_id": pa.array(["C1"] * 1_048_576), "qty": pa.array([1] * 1_048_576)}), big)
    started = time.perf_counter()
    done = subprocess.run([*ERP_PLUGIN, "price", str(big), "--tariffs", str(sample / "tariffs.xlsx"),
                           "--out", str(tmp_path / "priced.xlsx"), "--engine", "dask"], capture_output=True, text=True)
    assert done.returncode == 2
    assert ("the export has 1 048 576 lines and a sheet holds 1 048 575 under its header: give --out as .parquet or .csv"
            in " ".join(done.stderr.split()))
    assert time.perf_counter() - started < 30  # said from the file's footer, before any work
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.parquet"]


def test_a_1c_csv_export_prices_on_the_cluster_as_in_process(sample, tmp_path):
    """A csv as 1C writes it — Windows-1251, ``;``, decimal commas, dates as 19.12.2026, Russian headers,
    a title line above the header and a totals row under the lines — split as text and priced per bucket:
    every result of every line and every table equal to the in-process engine's on the same csv."""
    frame = pq.read_table(sample / "export.parquet").to_pandas()
    russian = {"date": "Дата", "doc_id": "Документ", "client_id": "Код контрагента", "sku": "Артикул",
               "qty": "Количество", "unit_price": "Цена", "amount": "Сумма", "vat_rate": "Ставка НДС"}
    text = frame.astype(object).where(frame.notna(), "").rename(columns=russian)
    text["Дата"] = [f"{day:%d.%m.%Y}" for day in frame["date"]]
    for money in ("Цена", "Сумма", "bonus_paid"):
        text[money] = text[money].astype(str).str.replace(".", ",", regex=False)
    export = tmp_path / "export.csv"
    with export.open("w", encoding="cp1251", newline="") as handle:
        handle.write("Отчёт о продажах за 2026 год\n")
        text.to_csv(handle, sep=";", index=False, lineterminator="\r\n")
        handle.write("Итого;;;;;;;;;;;;;;\r\n")
    outs = {}
    for engine in ("local", "dask"):
        outs[engine] = tmp_path / f"{engine}.parquet"
        done = subprocess.run([*ERP_PLUGIN, "price", str(export), "--tariffs", str(sample / "tariffs.xlsx"),
                               "--out", str(outs[engine]), "--engine", engine], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    local = pq.read_table(outs["local"]).to_pandas().sort_values("source_row").reset_index(drop=True)
    dask = ds.dataset(outs["dask"], format="parquet").to_table().to_pandas().sort_values("source_row")
    dask = dask.reset_index(drop=True)
    assert len(dask) == len(local) == 6000 and dask["source_row"].tolist() == list(range(3, 6003))
    results = [c for c in local.columns if c not in text.columns]
    assert "net" in results and "bonus_accrued" in results
    for column in results:
        assert dask[column].equals(local[column]), column
    for table in TABLES:
        mine, theirs = (pq.read_table(tmp_path / f"{engine}.{table}.parquet").to_pandas() for engine in ("dask", "local"))
        if table in ("coupons", "warnings"):
            mine, theirs = (t.sort_values(list(t.columns)).reset_index(drop=True) for t in (mine, theirs))
        pd.testing.assert_frame_equal(mine, theirs, check_exact=True)


def test_a_workbook_export_and_a_csv_without_skus_are_refused_before_any_work(sample, tmp_path):
    """An xlsx export is within one machine's reach (a sheet's rows): the local engine prices it. A csv whose
    codes are inside the names cannot be split as text: said, with what to do; nothing written."""
    workbook = tmp_path / "export.xlsx"
    pq.read_table(sample / "export.parquet").slice(0, 10).to_pandas().to_excel(workbook, index=False)
    named = tmp_path / "named.csv"
    named.write_text("date;doc_id;client_id;name;qty;unit_price;amount\n2026-01-05;D1;C1;[SL5077] Cable;1;100;100\n", encoding="utf-8")
    said = {}
    for export in (workbook, named):
        done = subprocess.run([*ERP_PLUGIN, "price", str(export), "--tariffs", str(sample / "tariffs.xlsx"),
                               "--out", str(tmp_path / "priced.parquet"), "--engine", "dask"], capture_output=True, text=True)
        assert done.returncode == 2, done.stderr
        said[export.suffix] = " ".join(done.stderr.split())
    assert "the Dask engine reads parquet and csv exports; a workbook holds at most 1 048 575 lines" in said[".xlsx"]
    assert "has no sku column (the codes are in the names" in said[".csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export.xlsx", "named.csv"]


@pytest.fixture(scope="module")
def posted_locally(sample):
    """The export priced, and rebated, in process against empty SQLite ledgers and posted: the references.
    The rebates under a stamp card whose column fills with one document of 100.00 or more
    (``stamps.xlsx``), so that most clients earn reward lots (the sample's clients have 1–2 documents)."""
    import openpyxl

    book = openpyxl.load_workbook(sample / "tariffs.xlsx")
    card = {row[0].value: row[1] for row in book["StampCard"].iter_rows(min_row=2)}
    card["cells_per_column"].value, card["min_document"].value = 1, 100
    book.save(sample / "stamps.xlsx")
    ledgers = {}
    for command, tariffs in ((["price"], "tariffs.xlsx"), (["rebates", "--year", "2026"], "stamps.xlsx")):
        ledgers[command[0]] = sample / f"local_{command[0]}_ledger.sqlite"
        done = subprocess.run([*ERP_PLUGIN, *command, str(sample / "export.parquet"), "--tariffs",
                               str(sample / tariffs), "--out", str(sample / f"posted_{command[0]}.parquet"),
                               "--ledger", str(ledgers[command[0]])], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    return ledgers


def _ledger_contents(url) -> dict:
    """What a ledger holds, as a user would ask it: balances on three days, its lines and entries summed."""
    from datetime import date

    from sqlalchemy import text

    from erp_plugin.ledger.store import balances, open_ledger

    engine = open_ledger(str(url))
    held = {day: balances(engine, day).sort_values("client_id").reset_index(drop=True)
            for day in (date(2026, 3, 31), date(2026, 9, 30), date(2027, 12, 31))}
    with engine.connect() as connection:
        held["lines"] = tuple(connection.execute(text(
            "SELECT count(*), sum(net), sum(bonus_accrued), sum(bonus_redeemed), count(sale_id) FROM lines")).one())
        held["entries"] = [tuple(row) for row in connection.execute(text(
            "SELECT kind, count(*), sum(amount) FROM entries GROUP BY kind ORDER BY kind")).all()]
        held["runs"] = tuple(connection.execute(text("SELECT count(*), sum(entries) FROM runs")).one())
    engine.dispose()
    return held


def _same_ledger(mine: dict, theirs: dict) -> None:
    for key in theirs:
        if isinstance(theirs[key], pd.DataFrame):
            pd.testing.assert_frame_equal(mine[key], theirs[key], check_exact=True)
        else:
            assert mine[key] == theirs[key], key


@given(st.lists(st.lists(st.one_of(st.none(), st.sampled_from(["K1", " K1", "K1 ", "K2", "", "  ", "клиент 7", "0042"])),
                         max_size=20), max_size=6))
@settings(deadline=None)  # the first example imports pyarrow.compute
def test_a_split_remembers_each_clients_bucket_as_the_hash_gives_it(batches):
    """The split hashes each client id once and looks the rest up: batch after batch, every line gets the
    bucket the hash gives its id as the reader reads it (trimmed, a missing one empty), whatever came before."""
    import pyarrow as pa

    from erp_plugin.dask_engine import _Buckets, bucket_of

    remembered = _Buckets(7)
    for ids in batches:
        column = pa.array(ids, pa.string())
        assert remembered(column).tolist() == bucket_of(column, 7).tolist()
        assert remembered(column.dictionary_encode()).tolist() == bucket_of(column, 7).tolist()
    assert bucket_of(pa.array([" K1 ", None]), 7).tolist() == bucket_of(pa.array(["K1", ""]), 7).tolist()


def test_a_split_in_chunks_gives_each_bucket_its_lines_whole_and_in_export_order(sample, tmp_path, monkeypatch):
    """The split hands the export to the dataset writer a chunk at a time (each chunk a file per bucket); a
    bucket read for pricing is every one of its client's lines, once, in export order, as one file."""
    from erp_plugin import dask_engine
    from erp_plugin.jobs import load_tariffs

    columns = {c.field: c.header for c in load_tariffs(sample / "tariffs.xlsx").columns}
    export = pq.read_table(sample / "export.parquet").to_pandas()
    whole = {folder.name: pq.ParquetFile(dask_engine._bucket_file(folder)).read().to_pandas()
             for folder in dask_engine._split(sample / "export.parquet", tmp_path / "one", 5, columns)}
    monkeypatch.setattr(dask_engine, "SPLIT_BATCH_ROWS", 500)
    monkeypatch.setattr(dask_engine, "SPLIT_CHUNK_ROWS", 1000)  # 6 000 lines: six chunks
    folders = dask_engine._split(sample / "export.parquet", tmp_path / "chunks", 5, columns)
    assert [len(list(f.glob("part-*.parquet"))) for f in folders] == [6] * 5
    clients, rows = set(), 0
    for folder in folders:
        lines = pq.ParquetFile(dask_engine._bucket_file(folder)).read().to_pandas()  # not read_table: its row order is not the file's
        assert list(folder.iterdir()) == [folder / "whole.parquet"]  # the chunks' files joined, and let go
        pd.testing.assert_frame_equal(lines, whole[folder.name])  # as one chunk would have written it
        expected = export.iloc[lines["source_row"].to_numpy() - 2].reset_index(drop=True)
        pd.testing.assert_frame_equal(lines.drop(columns="source_row"), expected)  # each line its export row's
        assert lines["source_row"].is_monotonic_increasing
        assert clients.isdisjoint(lines["client_id"])  # whole clients: none in two buckets
        clients |= set(lines["client_id"])
        rows += len(lines)
    assert rows == len(export) == 6000


def _listed(rows: list[int], cap: int) -> list:
    """A bucket's warnings as its run lists them: price.x and price.y on its rows (every third grouped in
    price.g), the first ``cap`` of a code and a note counting the rest."""
    from erp_plugin.problems import Problem, combined

    found = [Problem("price.g", f"line {row}", "warning", row=row, count=1 + row % 4, group=f"g{row % 2}", rank=row % 3)
             if row % 3 == 0 else Problem("price.x" if row % 2 else "price.y", f"line {row}", "warning", row=row)
             for row in rows]
    return combined(found, cap)


@given(st.lists(st.lists(st.integers(2, 400), unique=True, max_size=12), min_size=1, max_size=6), st.randoms())
@settings(deadline=None)
def test_the_buckets_warnings_folded_as_they_come_back_are_one_runs_list(rows, random):
    """Each bucket's warnings folded in as it comes back (in any order; folded in bucket order) are the list
    every bucket's joined at once gives: the run's first ones of each code, the rest counted, groups joined."""
    from erp_plugin import pipeline
    from erp_plugin.dask_engine import _Warnings
    from erp_plugin.problems import combined, total

    seen, buckets = set(), []
    for bucket in rows:  # an export row is in one bucket
        buckets.append([row for row in bucket if row not in seen])
        seen.update(bucket)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pipeline, "MAX_LINE_PROBLEMS", 3)
        lists = [_listed(bucket, 3) for bucket in buckets]
        folded, order = _Warnings(), list(range(len(lists)))
        random.shuffle(order)
        for n in order:
            assert folded.take(n, {"warnings": lists[n], "lines": n}) == {"lines": n}
        assert folded.listed == combined([w for listed in lists for w in listed], 3)
        assert total(folded.listed) == sum(1 + row % 4 if row % 3 == 0 else 1 for row in seen)


def test_a_workbooks_coupons_read_back_from_their_parts_keep_their_text_as_written(tmp_path):
    """For an .xlsx output the coupons' parts are joined and read back: the percentages and dates exact, and the
    clients' names and INNs as the Clients sheet has them — a `-` or `N/A` there is not an export's blank."""
    from erp_plugin.dask_engine import PartsTable, _read_back
    from erp_plugin.output.write import write_tables
    from erp_plugin.tables import DATE, PCT, TEXT, Table

    kinds = {"issued_on": DATE, "discount_pct": PCT, "used_doc": TEXT, "name": TEXT, "inn": TEXT}
    parts = []
    for n, (clients, names, inns) in enumerate([(["K1", "K2"], ["N/A", " Иванов "], ["-", "7707083893"]),
                                                 (["K3"], ["ООО «Ромашка»"], [None])]):
        frame = pd.DataFrame({"code": [f"C30-{c}-1" for c in clients], "client_id": clients, "name": names, "inn": inns,
                              "issued_on": pd.to_datetime(["2026-03-02"] * len(clients)),
                              "discount_pct": [300_000] * len(clients), "used_doc": [None] * len(clients)})
        parts += write_tables([Table("coupons", frame, kinds)], tmp_path / f"part-{n}.parquet")
    back = _read_back(PartsTable("coupons", tuple(parts), 3, kinds), tmp_path)
    assert list(back.frame.columns) == ["code", "client_id", "name", "inn", "issued_on", "discount_pct", "used_doc"]
    assert back.frame["name"].tolist() == ["N/A", " Иванов ", "ООО «Ромашка»"]
    assert [None if pd.isna(inn) else inn for inn in back.frame["inn"]] == ["-", "7707083893", None]
    assert back.frame["discount_pct"].tolist() == [300_000] * 3  # 30 % in 1/10 000 of a percent
    assert back.frame["issued_on"].tolist() == [pd.Timestamp("2026-03-02")] * 3
    assert back.frame["used_doc"].isna().all()
