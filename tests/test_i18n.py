"""Languages: the catalogs complete and compiled, the language chosen as SPEC §9 says, outputs in ru and en."""

from __future__ import annotations

import ast
import gettext
import json
import pickle
import string
import sys
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from babel.messages.pofile import read_po
from click.testing import CliRunner

from erp_plugin import i18n
from erp_plugin.cli import main

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import catalogs  # noqa: E402  (scripts/catalogs.py: the Babel extraction the catalogs are made with)

EXPORT, TARIFFS = "workbooks/sales_export.xlsx", "workbooks/tariffs.xlsx"


DOMAINS = (catalogs.DOMAIN, catalogs.LIBRARY_DOMAIN)  # ours, and click's own messages (usage, usage errors)


def po(language: str, domain: str = catalogs.DOMAIN):
    with catalogs.po_path(language, domain).open("rb") as handle:
        return read_po(handle, locale=language, domain=domain)


def places(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


@pytest.mark.parametrize("domain", DOMAINS)
@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_every_msgid_has_a_translation_with_the_same_places(language, domain):
    """Each translation names the msgid's places (a plural form may name any of its forms' places: click's
    "1 was given" has no {len}, Russian's form for 21 needs it)."""
    missing, wrong = [], []
    for message in po(language, domain):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            missing.append(ids[0])
        elif isinstance(message.id, tuple) and any(not places(s) <= set().union(*map(places, ids)) for s in strings):
            wrong.append(ids[0])
        elif not isinstance(message.id, tuple) and places(strings[0]) != places(ids[0]):
            wrong.append(ids[0])
    assert missing == [] and wrong == []


@pytest.mark.parametrize("domain", DOMAINS)
@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_the_compiled_catalog_is_the_po(language, domain):
    """The shipped .mo says what the .po says, entry for entry (a .po edited without compiling fails here)."""
    with catalogs.po_path(language, domain).with_suffix(".mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    entries = 0
    for message in po(language, domain):
        if not message.id:
            continue
        entries += 1
        if isinstance(message.id, tuple):
            for n, form in ((1, 0), (2, 1), (5, -1)):
                assert compiled.ngettext(*message.id, n) == message.string[form], message.id
        elif message.context:
            assert compiled.pgettext(message.context, message.id) == message.string, message.id
        else:
            assert compiled.gettext(message.id) == message.string, message.id
    header = 1
    assert len(compiled._catalog) - header == entries + sum(  # ngettext entries are one per form in the .mo
        len(m.string) - 1 for m in po(language, domain) if m.id and isinstance(m.id, tuple))


def test_the_catalogs_hold_every_message_of_the_source_and_no_other():
    extracted = {(m.context, m.id) for m in catalogs.extracted() if m.id}
    for language in i18n.LANGUAGES:
        held = {(m.context, m.id) for m in po(language) if m.id and m.context not in catalogs.LABEL_CONTEXTS}
        assert extracted - held == set(), f"run python scripts/catalogs.py: {language} lacks these"
        assert held - extracted == set(), f"run python scripts/catalogs.py: {language} keeps these"
    library = {(m.context, m.id) for m in catalogs.library_extracted() if m.id}
    for language in i18n.LANGUAGES:
        assert {(m.context, m.id) for m in po(language, catalogs.LIBRARY_DOMAIN) if m.id} == library


MESSAGE_CALLS = {"Problem", "error", "warning", "warn", "flag", "stop", "Refused"}  # (…, code, message, …)
MESSAGE_AT = {"_not_text": 1}  # helpers whose message is not after a code


def test_messages_to_users_are_msgids_not_formatted_text():
    """Every problem's message is a msgid (msg(...) or a name holding one), never an f-string, a plain literal or
    a concatenation: text formatted in place cannot be translated."""
    found = []
    for path in sorted((ROOT / "erp_plugin").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            message = _message_argument(node)
            if isinstance(message, (ast.ListComp, ast.GeneratorExp)):
                message = message.elt
            for text in message.elts if isinstance(message, ast.List) else [message]:
                if isinstance(text, (ast.JoinedStr, ast.BinOp)) or (
                        isinstance(text, ast.Constant) and isinstance(text.value, str)):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert found == []


def _message_argument(node):
    if not isinstance(node, ast.Call):
        return None
    name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
    if name in MESSAGE_AT:
        return node.args[MESSAGE_AT[name]] if len(node.args) > MESSAGE_AT[name] else None
    if name in MESSAGE_CALLS:
        at = next((i for i, arg in enumerate(node.args) if _is_code(arg)), None)
        if at is not None and at + 1 < len(node.args):
            return node.args[at + 1]
    return None


def _is_code(node) -> bool:
    """A problem code: ``"value.blank"`` or ``f"type.{kind}"``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return "." in node.value and " " not in node.value
    return isinstance(node, ast.JoinedStr)


def test_the_language_is_lang_else_settings_else_locale_else_russian():
    assert i18n.choose("en", "ru", {"LANG": "ru_RU.UTF-8"}) == "en"
    assert i18n.choose(None, "en", {"LANG": "ru_RU.UTF-8"}) == "en"
    assert i18n.choose(None, None, {"LANG": "en_GB.UTF-8"}) == "en"
    assert i18n.choose(None, None, {"LC_ALL": "ru_RU.UTF-8", "LANG": "en_US.UTF-8"}) == "ru"  # LC_ALL first
    assert i18n.choose(None, None, {"LC_MESSAGES": "en_US", "LANG": "ru_RU"}) == "en"
    assert i18n.choose(None, None, {"LANG": "de_DE.UTF-8"}) == "ru"  # a language we do not have
    assert i18n.choose(None, None, {"LANG": "C.UTF-8"}) == "ru"
    assert i18n.choose(None, None, {}) == "ru"


def test_a_message_is_english_text_and_translates_with_its_values():
    message = i18n.msg("{stage} ({count}): {seconds} s", stage=i18n.N_("reading the export"), count="1 287",
                       seconds="0.4")
    assert message == "reading the export (1 287): 0.4 s"  # as a str: the English text, for code and tests
    assert pickle.loads(pickle.dumps(message)).params == message.params  # to a Dask worker and back
    assert i18n.translate(message, "en") == "reading the export (1 287): 0.4 s"
    assert i18n.translate(message, "ru") == "чтение выгрузки (1 287): 0.4 с"  # the value that is a msgid too
    assert i18n.translate("plain text", "ru") == "plain text"


def test_plurals_in_russian_take_three_forms():
    assert [i18n.plural("{count} error", "{count} errors", n, "ru") for n in (1, 3, 5, 21)] == [
        "1 ошибка", "3 ошибки", "5 ошибок", "21 ошибка"]
    assert [i18n.plural("{count} error", "{count} errors", n, "en") for n in (1, 2)] == ["1 error", "2 errors"]


def harvest_names(tmp_path) -> tuple[dict[str, list[str]], list[str]]:
    """Every result table and column the jobs make on the sample workbooks (the lines' result columns too)."""
    import datetime as dt

    from erp_plugin import jobs, reports
    from erp_plugin.lines import COLUMNS

    tables: dict[str, list[str]] = {}
    ledger = str(tmp_path / "ledger.sqlite")
    runs = [jobs.price(EXPORT, TARIFFS, ledger=ledger), jobs.rebates(EXPORT, TARIFFS, 2026),
            jobs.accrue(EXPORT, TARIFFS, dt.date(2026, 6, 30)), jobs.fees(TARIFFS, "2026-07"),
            jobs.impact(EXPORT, TARIFFS, TARIFFS), jobs.ledger_balance(ledger, dt.date(2026, 12, 31)),
            jobs.ledger_history(ledger, "00-000101"),
            jobs.ledger_statement(ledger, "00-000101", None, dt.date(2026, 12, 31))[1],
            jobs.ledger_liability(ledger, dt.date(2026, 12, 31)), reports.rfm(EXPORT, TARIFFS),
            reports.birthdays(EXPORT, TARIFFS)]
    for run in runs:
        for table in run.tables.values():
            tables.setdefault(table.name, [])
            tables[table.name] += [c for c in table.frame.columns if c not in tables[table.name]]
    return tables, [c.name for c in COLUMNS]


def test_every_result_column_and_sheet_has_both_languages(tmp_path):
    tables, line_columns = harvest_names(tmp_path)
    assert {"summary", "credit_notes", "accruals", "liability", "rfm_segments"} <= set(tables)
    columns = sorted({*line_columns, *(c for names in tables.values() for c in names if c.isidentifier())})
    for language in i18n.LANGUAGES:
        catalog = po(language)
        assert [c for c in columns if not (catalog.get(c, context="column") or _blank).string] == [], language
        assert [t for t in tables if not (catalog.get(t, context="sheet") or _blank).string] == [], language
        for table in tables:
            sheet = i18n.sheet_label(table, language)
            assert len(sheet) <= 31 and not set(sheet) & set("[]:*?/\\"), sheet
    russian = [i18n.column_label(c, "ru") for c in columns]
    assert sum(any("а" <= ch <= "я" for ch in label.casefold()) for label in russian) >= len(columns) - 12


class _Blank:
    string = ""


_blank = _Blank()


def run(*args, env=None):
    result = CliRunner().invoke(main, [str(a) for a in args], env=env)
    assert "Traceback" not in result.output, result.output
    return result


def test_price_in_russian_and_in_english(tmp_path):
    ru = run("price", EXPORT, "--tariffs", TARIFFS, "--out", tmp_path / "ru.xlsx", "--lang", "ru")
    assert ru.exit_code == 0, ru.output
    lines = [line.strip() for line in ru.stdout.splitlines()]
    assert "Сумма без скидок   36 305 197,50" in lines and "Начислено бонусов     143 587,54" in lines
    en = run("price", EXPORT, "--tariffs", TARIFFS, "--out", tmp_path / "en.xlsx", "--lang", "en")
    assert "Gross             36 305 197.50" in [line.strip() for line in en.stdout.splitlines()]
    book = openpyxl.load_workbook(tmp_path / "ru.xlsx", read_only=True)
    assert book.sheetnames == ["TDSheet", "Итоги", "Маркеры", "Купоны", "Предупреждения"]
    headers = [c.value for c in next(book["TDSheet"].iter_rows(min_row=5, max_row=5))]
    assert headers[18:22] == ["Сумма без скидок", "Тариф", "Режим бонуса", "Маркер"]
    assert "Начислено бонусов" in headers and "Кредит-ноты" not in headers
    book = openpyxl.load_workbook(tmp_path / "en.xlsx", read_only=True)
    assert book.sheetnames == ["TDSheet", "Summary", "Markers", "Coupons", "Warnings"]
    headers = [c.value for c in next(book["TDSheet"].iter_rows(min_row=5, max_row=5))]
    assert headers[18:22] == ["Gross", "Tariff", "Bonus mode", "Marker"]


def test_csv_and_parquet_keep_the_canonical_names_in_russian(tmp_path):
    done = run("price", EXPORT, "--tariffs", TARIFFS, "--out", tmp_path / "p.csv", "--lang", "ru")
    assert done.exit_code == 0, done.output
    header = (tmp_path / "p.csv").read_text(encoding="utf-8-sig").splitlines()[0].split(",")
    assert header[:3] == ["source_row", "date", "doc_id"] and "bonus_accrued" in header
    assert (tmp_path / "p.summary.csv").read_text(encoding="utf-8-sig").startswith("lines,documents,clients,gross")


def test_the_locale_and_the_settings_key_choose_the_language(tmp_path):
    done = run("validate", TARIFFS, env={"LC_ALL": "", "LC_MESSAGES": "", "LANG": "ru_RU.UTF-8"})
    assert "0 ошибок, 0 предупреждений" in done.stdout and "всё в порядке: тарифов: 6" in done.stdout
    done = run("validate", TARIFFS, env={"LC_ALL": "", "LC_MESSAGES": "", "LANG": ""})
    assert "всё в порядке" in done.stdout  # no locale: Russian
    english = tmp_path / "english.xlsx"
    book = openpyxl.load_workbook(TARIFFS)
    settings = book["Settings"]
    row = next(r for r in range(2, settings.max_row + 1) if settings.cell(r, 1).value == "language")
    settings.cell(row, 2).value = "en"  # the template leaves it blank
    book.save(english)
    done = run("validate", english, env={"LC_ALL": "", "LC_MESSAGES": "", "LANG": "ru_RU.UTF-8"})
    assert "ok: 6 tariffs" in done.stdout  # the workbook's Settings over the locale
    done = run("validate", english, "--lang", "ru")
    assert "всё в порядке: тарифов: 6" in done.stdout  # --lang over the workbook


def test_problems_in_russian_keep_their_place_and_code(tmp_path):
    done = run("price", EXPORT, "--tariffs", TARIFFS, "--out", tmp_path / "p.xlsx", "--lang", "ru", "--json")
    payload = json.loads(done.stdout)
    assert payload["language"] == "ru"
    warning = payload["problems"][0]
    assert warning["where"].startswith("выгрузка, строка ") and warning["code"]
    assert any("а" <= ch <= "я" for ch in warning["message"].casefold())


def test_each_message_is_given_exactly_the_values_its_msgid_names():
    """A msgid's {places} and the values passed with it agree (a missing one would fail only when the problem
    is met)."""
    wrong = []
    for path in sorted((ROOT / "erp_plugin").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("msg", "_")
                    and node.args and isinstance(node.args[0], ast.Constant)):
                named = {name.split(".")[0].split("[")[0] for name in places(node.args[0].value)}
                given = {keyword.arg for keyword in node.keywords}
                if named != given:
                    wrong.append(f"{path.relative_to(ROOT)}:{node.lineno} {sorted(named ^ given)}")
    assert wrong == []


def test_init_describes_the_settings_in_the_chosen_language(tmp_path):
    for language, currency, blank in (("ru", "код валюты ISO", "пусто: первое условие оплаты"),
                                      ("en", "ISO currency code", "blank: the first payment option")):
        assert run("init", tmp_path / language, "--lang", language).exit_code == 0
        settings = openpyxl.load_workbook(tmp_path / language / "tariffs.xlsx")["Settings"]
        described = {row[0]: row[2] for row in settings.iter_rows(min_row=2, values_only=True)}
        assert described["currency"] == currency and described["default_payment"] == blank
        assert described["language"].startswith(("язык сообщений", "messages, result headers"))


def test_numbers_in_messages_are_written_the_languages_way():
    """Babel's ru and en: decimal comma and a no-break space between thousands in Russian; money exact with its
    decimals; a share at most its decimals, rounded half away from zero."""
    message = i18n.msg("{share} % of {amount}", share=i18n.Number(Decimal("12.5"), most=2),
                       amount=i18n.Number.money(123_456_789, 2))
    assert i18n.translate(message, "ru") == "12,5 % of 1\u00a0234\u00a0567,89"
    assert i18n.translate(message, "en") == str(message) == "12.5 % of 1,234,567.89"
    assert str(i18n.Number.money(-5, 2)) == "-0.05" and str(i18n.Number.money(100_000, 0)) == "100,000"
    assert str(i18n.Number(Decimal("0.125"), most=2)) == "0.13" and str(i18n.Number(Decimal("-0.125"), most=2)) == "-0.13"
    assert i18n.translate(i18n.msg("{x}", x=i18n.Number(Decimal("7.50"), most=None)), "ru") == "7,5"
    assert pickle.loads(pickle.dumps(message)).params == message.params  # to a Dask worker and back


def test_the_concession_warning_in_russian_has_decimal_commas(tmp_path):
    ru = run("price", EXPORT, "--tariffs", TARIFFS, "--out", tmp_path / "ru.csv", "--lang", "ru")
    assert "больше всего — в этой строке: 59,5 % (стоимость резерва, 0,09 %, показана отдельно" in ru.stderr
    en = run("price", EXPORT, "--tariffs", TARIFFS, "--out", tmp_path / "en.csv", "--lang", "en")
    assert "the worst line, this one, gives 59.5 % (its reservation cost, 0.09 %, beside it" in en.stderr


def test_a_tariff_workbook_number_in_a_problem_follows_the_language(tmp_path):
    from .conftest import minimal_sheets, write_book

    sheets = minimal_sheets()
    sheets["Tariffs"][2][3] = 2.75  # PRO green 2.75 %; the Markers default green range is 1–3 %
    sheets["Markers"] = [["marker", "min_pct", "max_pct"], ["white", 0, 0], ["green", 3.5, 7.25], ["yellow", 3, 5],
                         ["red", 5, 10]]
    path = write_book(tmp_path / "t.xlsx", sheets)
    ru = run("validate", path, "--lang", "ru")
    en = run("validate", path, "--lang", "en")
    assert "2,75" in ru.stdout and "3,5–7,25" in ru.stdout, ru.stdout
    assert "green discount 2.75 is outside the green range 3.5–7.25" in en.stdout, en.stdout


def test_a_library_failure_is_a_translated_lead_with_the_library_text_as_detail(tmp_path):
    """What is wrong and what to do in the user's language; the library's own words only as «подробности»."""
    import zipfile

    damaged = tmp_path / "damaged.xlsx"
    with zipfile.ZipFile(damaged, "w") as archive:  # a zip that says it is a workbook, without the package's parts
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook><sheets>")
    ledger = tmp_path / "ledger.sqlite"
    ledger.write_bytes(b"SQLite format 3\x00" + b"\x10\x00" + b"\xff" * 200)  # SQLite's header, then rubbish
    csv_file = tmp_path / "export.csv"
    csv_file.write_bytes(b"a;b\n\"x" + b"y" * 200_000 + b"\n")  # a value longer than the csv module takes
    cases = [
        (("validate", damaged), "не читается как книга; сохраните её из Excel заново (подробности: CalamineError: ",
         "cannot be read as a workbook; save it again from Excel (detail: CalamineError: "),
        (("ledger", "balance", "--ledger", ledger), "это не база журнала баллов (не SQLite или повреждена); "
         "восстановите журнал из резервной копии (подробности: file is not a database)",
         "is not a ledger database (not SQLite, or damaged); restore the ledger from a backup (detail: file is not a "
         "database)"),
        (("read", csv_file), "не читается как текст с разделителем ';' в первых 30 строках; сохраните его заново как "
         "csv из ERP или Excel (подробности: field larger than field limit (131072))",
         "cannot be read as ';'-separated text within its first 30 lines; save it again as csv from the ERP or Excel "
         "(detail: field larger than field limit (131072))"),
    ]
    for args, russian, english in cases:
        ru = run(*args, "--lang", "ru")
        en = run(*args, "--lang", "en")
        assert ru.exit_code == en.exit_code == 2
        assert russian in " ".join(ru.output.split()), ru.output
        assert english in " ".join(en.output.split()), en.output
