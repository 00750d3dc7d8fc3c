"""The engine contract (issue 15): declared plugins from an entry-point group, a third party's rule between
promotions and totals, the runner's checks, purity on client parts, the layers, and a light ``--help``.

Figures by hand, on test_price's workbook: C2 is on BASE with the discount mode; a green line of 2 × 1 000.00
gets BASE's green 1 % as a price discount (20.00), net 1 980.00; VAT 22 % included (2026) is
round(1 980.00 × 22 / 122) = 357.05.
"""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from erp_plugin import jobs
from erp_plugin.lines import COLUMNS, RESULT_COLUMNS, with_columns
from erp_plugin.pipeline import (
    LinePlugin,
    PluginResult,
    RunContext,
    line_plugins,
    price_lines,
)
from erp_plugin.problems import InputError

from .conftest import write_book
from .test_price import book, write_export

GREEN = dict(doc_id="D1", client_id="C2", sku="S1", qty=2, unit_price="1000", marker="green")

THIRD_PARTY = '''
"""A third party's rule: 5.00 more off every line of client C2, after the promotions, before the totals."""
import numpy as np

from erp_plugin.lines import with_columns
from erp_plugin.pipeline import LinePlugin, PluginResult


def apply(lines, ctx):
    extra = np.where(lines["client_id"].astype(str).to_numpy() == "C2", 500, 0) * lines["sign"].to_numpy()
    return PluginResult(with_columns(lines, promo_discount=lines["promo_discount"].to_numpy() + extra))


PLUGIN = LinePlugin("extra_discount", 750, needs=("promo_discount", "client_id", "sign"), adds=("promo_discount",),
                    apply=apply)
'''


def test_the_built_ins_come_from_the_entry_point_group_in_spec_order():
    assert [(p.name, p.slot) for p in line_plugins()] == [
        ("gross", 100), ("tariff", 200), ("marker", 300), ("options", 400), ("kit", 500), ("coupons", 600),
        ("promotions", 700), ("totals", 800), ("returns", 900), ("redemption", 1000)]


def test_every_column_a_plugin_needs_or_adds_is_declared():
    declared = {c.name for c in COLUMNS}
    for plugin in line_plugins():
        assert set(plugin.needs) <= declared, plugin.name
        assert set(plugin.adds) <= declared, plugin.name
    assert set(RESULT_COLUMNS) <= declared
    assert not [c.name for c in COLUMNS if c.name.startswith("_")]


def test_a_third_party_rule_installed_from_its_package_prices_between_promotions_and_totals(tmp_path):
    package = tmp_path / "extra_discount"
    (package / "extra_discount").mkdir(parents=True)
    (package / "extra_discount" / "__init__.py").write_text(THIRD_PARTY, encoding="utf-8")
    (package / "pyproject.toml").write_text(textwrap.dedent('''
        [build-system]
        requires = ["setuptools>=68"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "extra-discount"
        version = "0.1"

        [project.entry-points."erp_plugin.line_plugins"]
        extra_discount = "extra_discount:PLUGIN"

        [tool.setuptools]
        packages = ["extra_discount"]
        '''), encoding="utf-8")
    site = tmp_path / "site"
    installed = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site),
                                str(package)], capture_output=True, text=True, timeout=600)
    assert installed.returncode == 0, installed.stderr
    tariffs = write_book(tmp_path / "tariffs.xlsx", book())
    export = write_export(tmp_path / "export.csv", [GREEN], date="2026-03-02")
    job = ("import json, sys\nfrom erp_plugin import jobs\nfrom erp_plugin.pipeline import line_plugins\n"
           f"priced = jobs.price({str(export)!r}, {str(tariffs)!r})\n"
           "row = priced.lines.iloc[0]\n"
           "print(json.dumps({'plugins': [p.name for p in line_plugins()],\n"
           "                  'figures': [int(row[c]) for c in ('promo_discount', 'price_discount', 'net', 'vat')]}))\n")
    env = {**os.environ, "PYTHONPATH": str(site)}
    done = subprocess.run([sys.executable, "-c", job], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["plugins"].index("extra_discount") == seen["plugins"].index("promotions") + 1
    assert seen["plugins"].index("extra_discount") == seen["plugins"].index("totals") - 1
    # 20.00 kit + 5.00 extra = 25.00 off; net 1 975.00; VAT round(1 975.00 × 22 / 122) = 356.15
    assert seen["figures"] == [500, 2_500, 197_500, 35_615]
    # the same lines here, without the package: 20.00 off, net 1 980.00, VAT 357.05
    here = jobs.price(export, tariffs).lines.iloc[0]
    assert [int(here[c]) for c in ("promo_discount", "price_discount", "net", "vat")] == [0, 2_000, 198_000, 35_705]


def _lines(tmp_path, rows):
    tariffs = write_book(tmp_path / "tariffs.xlsx", book())
    export = write_export(tmp_path / "export.csv", rows, date="2026-03-02")
    data = jobs.read(export, tariffs)
    return data.export.lines, jobs.load_tariffs(tariffs)


def test_a_plugin_that_fails_is_named_and_its_error_is_a_problem(tmp_path):
    lines, book_ = _lines(tmp_path, [GREEN])

    def broken(lines, ctx):
        return 1 // 0

    plugins = (*line_plugins(), LinePlugin("broken_rule", 750, needs=("gross",), adds=(), apply=broken))
    with pytest.raises(InputError) as caught:
        price_lines(lines, RunContext(book_), plugins)
    [problem] = caught.value.problems
    assert problem.code == "plugin.failed"
    assert "broken_rule" in problem.message and "ZeroDivisionError" in problem.message


def test_the_runner_checks_what_a_plugin_declares(tmp_path):
    lines, book_ = _lines(tmp_path, [GREEN])
    silent = LinePlugin("silent", 750, needs=(), adds=("promo_discount", "bonus_redeemed"),
                        apply=lambda lines, ctx: PluginResult(lines))
    text_as_numbers = LinePlugin("numbers", 750, needs=(), adds=("promo_rules",),
                                 apply=lambda lines, ctx: PluginResult(with_columns(lines, promo_rules=np.zeros(len(lines), np.int64))))
    needy = LinePlugin("needy", 150, needs=("net",), adds=(), apply=lambda lines, ctx: PluginResult(lines))
    for plugin, code, words in ((silent, "plugin.columns", "bonus_redeemed but did not"),
                                (text_as_numbers, "plugin.columns", "promo_rules as int64"),
                                (needy, "plugin.needs", "needs net")):
        plugins = tuple(sorted((*line_plugins(), plugin), key=lambda p: p.slot))
        with pytest.raises(InputError) as caught:
            price_lines(lines, RunContext(book_), plugins)
        assert [p.code for p in caught.value.problems] == [code], plugin.name
        assert words in caught.value.problems[0].message


def test_a_patch_changes_its_lines_of_an_existing_column_and_nothing_else(tmp_path):
    """A plugin may give back existing columns changed at a few lines, as (positions, values): the runner
    copies the column and sets them; the frame the plugin was given keeps its own values."""
    lines, book_ = _lines(tmp_path, [GREEN, dict(GREEN, doc_id="D2"), dict(GREEN, doc_id="D3")])
    given = {}

    def halve_second(lines, ctx):
        given["frame"] = lines
        return PluginResult(lines, patches={"net": (np.array([1]), np.array([99_000]))})

    plugins = (*line_plugins(), LinePlugin("patcher", 850, needs=("net",), adds=(), apply=halve_second))
    priced = price_lines(lines, RunContext(book_), tuple(sorted(plugins, key=lambda p: p.slot))).lines
    # net 1 980.00 on every line (module docstring); the patch sets the second to 990.00, before returns
    # and redemption run (they keep it: no return, no bonus paid)
    assert priced["net"].tolist() == [198_000, 99_000, 198_000]
    assert priced["cash_due"].tolist() == [198_000, 99_000, 198_000]
    assert given["frame"]["net"].tolist() == [198_000, 198_000, 198_000]


@pytest.mark.parametrize("patches, words", [
    ({"no_such": (np.array([0]), np.array([1]))}, "patches no_such, which is not a column it was given"),
    ({"net": (np.array([0, 1]), np.array([1]))}, "patches net with other than (positions, values) of one length"),
    ({"net": (np.array([0.5]), np.array([1]))}, "patches net with other than (positions, values) of one length"),
    ({"net": (np.array([3]), np.array([1]))}, "patches net at positions beyond its 1 lines"),
    ({"net": (np.array([0]), np.array([1.5]))}, "patches net (int64) with float64 values"),
    ({"promo_rules": (np.array([0]), np.array([1]))}, "patches promo_rules (category) with int64 values"),
])
def test_a_wrong_patch_is_named(tmp_path, patches, words):
    lines, book_ = _lines(tmp_path, [GREEN])
    plugin = LinePlugin("patcher", 850, needs=(), adds=(), apply=lambda lines, ctx: PluginResult(lines, patches=patches))
    with pytest.raises(InputError) as caught:
        price_lines(lines, RunContext(book_), tuple(sorted((*line_plugins(), plugin), key=lambda p: p.slot)))
    [problem] = caught.value.problems
    assert problem.code == "plugin.columns" and "'patcher'" in problem.message and words in problem.message


def test_pricing_whole_clients_apart_gives_the_same_figures(tmp_path):
    """Plugins are pure on any part that keeps whole clients together (the Dask engine buckets by client)."""
    rows = [dict(GREEN, doc_id=f"D{i}", client_id=client, qty=1 + i % 3, marker=marker, payment=payment,
                 reservation_days=days, date=f"2026-03-{1 + i % 20:02d}")
            for i, (client, marker, payment, days) in enumerate(
                [(c, m, p, d) for c in ("C1", "C2", "C3", "C9") for m in ("white", "green", "red")
                 for p in ("prepaid", "deferral") for d in (0, 7)])]
    tariffs = write_book(tmp_path / "tariffs.xlsx", book())
    export = write_export(tmp_path / "export.csv", rows)
    whole = jobs.price(export, tariffs).lines
    lines, book_ = jobs.read(export, tariffs).export.lines, jobs.load_tariffs(tariffs)
    parts = []
    for bucket in (("C1", "C3"), ("C2", "C9")):
        part = lines[lines["client_id"].astype(str).isin(bucket)].reset_index(drop=True)
        part = part.assign(**{c: part[c].cat.remove_unused_categories() for c in part.columns
                              if isinstance(part[c].dtype, pd.CategoricalDtype)})
        parts.append(price_lines(part, RunContext(book_)).lines)
    apart = pd.concat(parts).sort_values("source_row").reset_index(drop=True)
    whole = whole.sort_values("source_row").reset_index(drop=True)
    for name in ("gross", "price_discount", "net", "bonus_accrued", "reservation_cost", "vat", "cash_due"):
        assert apart[name].tolist() == whole[name].tolist(), name
    assert apart["promo_rules"].astype(object).fillna("").tolist() == whole["promo_rules"].astype(object).fillna("").tolist()


def test_layers_import_downward_only():
    """import-linter's contracts (pyproject.toml): faces on top, then api, jobs, output, period, the engine,
    the ledger, the readers, the ground floor; nothing below imports a face."""
    linter = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(linter), "--no-cache"], capture_output=True, text=True, timeout=300,
                          cwd=Path(__file__).parent.parent)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def test_help_imports_no_heavy_library():
    job = ("import sys\nfrom erp_plugin.cli import main\nsys.argv = ['erp-plugin', '--help']\n"
           "try:\n    main()\nexcept SystemExit:\n    pass\n"
           "print('loaded:' + ','.join(m for m in ('pandas', 'numpy', 'pyarrow', 'sqlalchemy', 'openpyxl') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", job], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "loaded:"
