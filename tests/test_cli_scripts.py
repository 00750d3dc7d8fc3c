"""The command line as a script uses it: --json on every command, -q, -v, --out -, what the ledger posted."""

from __future__ import annotations

import csv
import io
import json

import openpyxl
import pytest
from click.testing import CliRunner

from erp_plugin.cli import main

EXPORT, TARIFFS = "workbooks/sales_export.xlsx", "workbooks/tariffs.xlsx"
KEYS = {"command", "ok", "exit_code", "language", "summary", "errors", "warnings", "problems", "files"}


def run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in result.output, result.output
    return result


def payload_of(result) -> dict:
    """stdout holds one JSON object and nothing else."""
    payload = json.loads(result.stdout)
    assert set(payload) == KEYS and payload["exit_code"] == result.exit_code
    return payload


@pytest.fixture(scope="module")
def ledger(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ledger")
    path = folder / "ledger.sqlite"
    done = run("price", EXPORT, "--tariffs", TARIFFS, "--ledger", path, "--out", folder / "posted.csv")
    assert done.exit_code == 0, done.output
    return path


def commands(tmp_path, ledger) -> list[list]:
    return [
        ["init", tmp_path / "init"],
        ["validate", TARIFFS],
        ["read", EXPORT, "--tariffs", TARIFFS],
        ["price", EXPORT, "--tariffs", TARIFFS, "--out", tmp_path / "p.csv"],
        ["rebates", EXPORT, "--tariffs", TARIFFS, "--year", 2026, "--out", tmp_path / "r.csv"],
        ["accrue", EXPORT, "--tariffs", TARIFFS, "--as-of", "2026-06-30", "--out", tmp_path / "a.csv"],
        ["fees", "--tariffs", TARIFFS, "--month", "2026-07"],
        ["impact", EXPORT, "--tariffs", TARIFFS, "--against", TARIFFS],
        ["ledger", "balance", "--ledger", ledger, "--as-of", "2026-12-31"],
        ["ledger", "history", "--ledger", ledger, "--client", "00-000101"],
        ["ledger", "statement", "--ledger", ledger, "--client", "00-000101", "--as-of", "2026-12-31"],
        ["ledger", "liability", "--ledger", ledger, "--as-of", "2026-12-31"],
        ["report", "rfm", EXPORT, "--tariffs", TARIFFS, "--out", tmp_path / "rfm.xlsx"],
        ["report", "birthdays", EXPORT, "--tariffs", TARIFFS, "--out", tmp_path / "b.xlsx"],
    ]


def test_every_command_answers_one_json_object(tmp_path, ledger):
    for args in commands(tmp_path, ledger):
        done = run(*args, "--json")
        assert done.exit_code == 0, (args, done.output)
        payload = payload_of(done)
        name = " ".join(args[:2]) if args[0] in ("ledger", "report") else args[0]
        assert payload["ok"] is True and payload["command"] == name and payload["summary"], args
    assert payload_of(run("price", EXPORT, "--tariffs", TARIFFS, "--out", tmp_path / "p.csv", "--json"))["files"] == [
        str(tmp_path / "p.csv"), *(str(tmp_path / f"p.{t}.csv") for t in ("summary", "markers", "coupons", "warnings"))]


def test_price_json_has_the_figures_exact_and_every_problem_with_its_place(tmp_path):
    done = run("price", EXPORT, "--tariffs", TARIFFS, "--out", tmp_path / "p.xlsx", "--json", "--lang", "en")
    payload = payload_of(done)
    summary = payload["summary"]
    assert (summary["lines"], summary["documents"], summary["clients"]) == (209, 81, 6)
    assert summary["gross"] == "36305197.50"  # the export's own Итого row: money as exact decimal text
    # a grouped warning stands for its lines: the counts add up to what the summary says
    assert summary["warnings"] == payload["warnings"] == sum(p.get("count", 1) for p in payload["problems"])
    assert summary["warnings_listed"] == len(payload["problems"]) < summary["warnings"]
    first = payload["problems"][0]
    assert first["where"] == f"export row {first['row']}" and first["severity"] == "warning" and first["code"]
    assert done.stderr.count("  warning export row") == len(payload["problems"])  # on stderr too; stdout is JSON


def test_a_refused_run_answers_json_with_exit_2(tmp_path):
    broken = tmp_path / "broken.xlsx"
    wb = openpyxl.load_workbook(EXPORT)
    wb.active["J6"] = "пять"
    wb.active["A9"] = "32.01.2026"
    wb.save(broken)
    done = run("price", broken, "--tariffs", TARIFFS, "--out", tmp_path / "out.xlsx", "--json", "--lang", "en")
    assert done.exit_code == 2
    payload = payload_of(done)
    assert payload["ok"] is False and payload["errors"] == 2 and payload["files"] == []
    assert sorted((p["row"], p["field"]) for p in payload["problems"]) == [(6, "qty"), (9, "date")]
    assert not (tmp_path / "out.xlsx").exists()
    usage = run("price", EXPORT, "--tariffs", TARIFFS, "--json")  # no --out: a usage error, as JSON too
    assert usage.exit_code == 2 and payload_of(usage)["problems"][0]["message"] == "give --out (or --in-place)"


def test_quiet_prints_nothing_on_success_and_verbose_lists_every_warning(tmp_path):
    quiet = run("price", EXPORT, "--tariffs", TARIFFS, "--out", tmp_path / "q.csv", "-q")
    assert quiet.exit_code == 0 and quiet.stdout == "" and quiet.stderr == ""
    assert (tmp_path / "q.csv").exists()
    broken = tmp_path / "broken.xlsx"  # twelve bad quantities left out: twelve warnings more than the grouped ones
    wb = openpyxl.load_workbook(EXPORT)
    for row in range(6, 18):
        wb.active[f"J{row}"] = "x"
    wb.save(broken)
    verbose = run("price", broken, "--tariffs", TARIFFS, "--out", tmp_path / "v.csv", "-v", "--lang", "en",
                  "--skip-bad-lines")
    shown = [line for line in verbose.stderr.splitlines() if line.startswith("  warning ")]
    warnings = list(csv.DictReader(io.StringIO((tmp_path / "v.warnings.csv").read_text(encoding="utf-8-sig"))))
    assert len(shown) == len(warnings) > 10
    assert "reading the export (210 of 210): " in verbose.stderr  # each stage with its count and time
    default = run("price", broken, "--tariffs", TARIFFS, "--out", tmp_path / "d.csv", "--lang", "en",
                  "--skip-bad-lines")
    assert len([line for line in default.stderr.splitlines() if line.startswith("  warning ")]) == 10
    assert f"warnings (first 10 of {len(warnings)};" in default.stderr
    assert "  warning " not in default.stdout and "price.concession" not in default.stdout  # the summary alone


def test_out_dash_writes_the_lines_as_csv_to_stdout(tmp_path):
    done = run("price", EXPORT, "--tariffs", TARIFFS, "--out", "-", "--lang", "en")
    assert done.exit_code == 0, done.stderr
    written = run("price", EXPORT, "--tariffs", TARIFFS, "--out", tmp_path / "p.csv")
    assert written.exit_code == 0
    assert done.stdout_bytes == (tmp_path / "p.csv").read_bytes()  # the same csv, canonical names
    assert "Gross" in done.stderr and "wrote the csv to stdout" in done.stderr  # the summary went to stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout.lstrip("\ufeff"))))
    assert len(rows) == 209 and rows[0]["source_row"] == "6"
    both = run("price", EXPORT, "--tariffs", TARIFFS, "--out", "-", "--json")
    assert both.exit_code == 2 and payload_of(both)["problems"][0]["code"] == "usage"


def test_out_dash_names_the_tables_it_did_not_write_and_how_to_get_them(tmp_path):
    done = run("price", EXPORT, "--tariffs", TARIFFS, "--out", "-", "--lang", "en")
    assert ("warning: stdout carries one csv; not written: summary, markers, coupons, warnings. To get them, give "
            "--out FILE.csv (each table beside it as FILE.<table>.csv) or --out FILE.xlsx") in done.stderr
    assert "not written" not in done.stdout
    fees = run("fees", "--tariffs", TARIFFS, "--month", "2026-07", "--out", "-", "--lang", "ru")
    assert fees.exit_code == 0 and fees.stdout.lstrip("\ufeff").startswith("client_id,")  # the first table: fees
    assert "в stdout помещается один csv; не записаны: journal. Чтобы получить их, укажите --out ФАЙЛ.csv" in fees.stderr
    quiet = run("fees", "--tariffs", TARIFFS, "--month", "2026-07", "--out", "-", "-q")
    assert quiet.stderr == ""  # -q: errors only
    single = run("read", EXPORT, "--out", "-")
    assert single.exit_code == 0 and "not written" not in single.stderr  # one table: nothing left out


def test_the_summary_says_what_the_ledger_posted(tmp_path):
    ledger = tmp_path / "ledger.sqlite"
    first = payload_of(run("price", EXPORT, "--tariffs", TARIFFS, "--ledger", ledger, "--out", tmp_path / "1.csv",
                           "--json"))["summary"]
    assert (first["ledger_new_lines"], first["ledger_already_posted"], first["ledger_conflicts"]) == (209, 0, 0)
    assert first["ledger_new_entries"] > 0
    again = payload_of(run("price", EXPORT, "--tariffs", TARIFFS, "--ledger", ledger, "--out", tmp_path / "2.csv",
                           "--json"))["summary"]
    assert (again["ledger_new_lines"], again["ledger_new_entries"], again["ledger_already_posted"]) == (0, 0, 209)
    changed = tmp_path / "changed.xlsx"
    wb = openpyxl.load_workbook(EXPORT)
    wb.active["J6"] = 51  # the first line's quantity, posted as 50
    wb.active["J7"] = 11
    wb.save(changed)
    refused = run("price", changed, "--tariffs", TARIFFS, "--ledger", ledger, "--out", tmp_path / "3.csv", "--json")
    assert refused.exit_code == 2
    payload = payload_of(refused)
    assert payload["summary"]["ledger_conflicts"] == 2
    assert {p["code"] for p in payload["problems"]} == {"ledger.conflict"}
    human = run("price", EXPORT, "--tariffs", TARIFFS, "--ledger", ledger, "--out", tmp_path / "4.csv", "--lang", "en")
    assert "ledger: 0 new lines posted (0 point entries); 209 already posted and unchanged; no conflicts" in human.stdout


def test_rebates_shows_its_warnings(tmp_path):
    done = run("rebates", EXPORT, "--tariffs", TARIFFS, "--year", 2026, "--out", tmp_path / "r.xlsx", "--lang", "en")
    assert done.exit_code == 0, done.output
    assert "warnings" in done.stderr and "[price.concession]" in done.stderr  # the pricing's, grouped
    assert payload_of(run("rebates", EXPORT, "--tariffs", TARIFFS, "--year", 2026, "--out", tmp_path / "r.csv",
                          "--json"))["warnings"] > 0


def test_the_writing_stage_counts_the_rows_written(tmp_path):
    done = run("price", EXPORT, "--tariffs", TARIFFS, "--out", tmp_path / "p.csv", "-v", "--lang", "en")
    assert done.exit_code == 0, done.stderr
    rows = {path.name: len(path.read_text(encoding="utf-8-sig").splitlines()) - 1 for path in tmp_path.glob("p*.csv")}
    # 209 lines, 1 summary row, 4 markers, 12 coupons, 7 grouped warnings: 233 rows in the five files
    assert rows == {"p.csv": 209, "p.summary.csv": 1, "p.markers.csv": 4, "p.coupons.csv": 12, "p.warnings.csv": 7}
    assert "writing (233 of 233): " in done.stderr


def test_write_tables_reports_its_rows_after_each_file(tmp_path):
    import pandas as pd

    from erp_plugin.output.write import write_tables
    from erp_plugin.tables import TEXT, Table

    heard = []
    tables = [Table("a", pd.DataFrame({"x": ["1", "2", "3"]}), {"x": TEXT}),
              Table("b", pd.DataFrame({"x": ["4", "5"]}), {"x": TEXT})]
    write_tables(tables, tmp_path / "t.csv", progress=lambda stage, done, total: heard.append((str(stage), done, total)))
    assert heard == [("writing", 0, 5), ("writing", 3, 5), ("writing", 5, 5)]
    heard.clear()
    write_tables(tables, tmp_path / "t.xlsx", progress=lambda stage, done, total: heard.append((str(stage), done, total)))
    assert heard == [("writing", 0, 5), ("writing", 5, 5)]  # one workbook: counted once it is written
