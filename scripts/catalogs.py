"""Update and compile the message catalogs with Babel: ``python scripts/catalogs.py`` (``--check``: only say
whether they are up to date, exit 1 when not).

1. The msgids are extracted from ``erp_plugin/`` (``msg``, ``N_``, ``_``/``gettext_``, ``plural``), and the
   help of every command (its docstring) and option (``help=``) from the command line's click tree.
2. The labels of result columns and sheets (msgctxt ``column``/``sheet``, the msgid the canonical name) are
   kept by hand in the .po files; the English catalog holds the list, both hold their language's label.
3. Each ``erp_plugin/locale/<lang>/LC_MESSAGES/erp_plugin.po`` takes the new msgids (untranslated, for a
   translator) and loses the ones no longer in the source; then it is compiled to its ``.mo``.

click's own messages (usage, help headings, usage errors) are a second domain, ``click``: extracted from the
installed click's modules that speak to a user, kept in ``erp_plugin/locale/<lang>/LC_MESSAGES/click.po`` (the
English msgstr is the msgid, written here; the Russian one by hand) and compiled beside the first.

tests/test_i18n.py fails while a msgid lacks a translation in either language or a .mo is stale.
"""

from __future__ import annotations

import argparse
import inspect
import io
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "erp_plugin"
LOCALE = PACKAGE / "locale"
DOMAIN = "erp_plugin"
LIBRARY_DOMAIN = "click"
LANGUAGES = ("ru", "en")
KEYWORDS = {"msg": None, "N_": None, "_": None, "gettext_": None, "plural": (1, 2)}
LIBRARY_KEYWORDS = {"_": None, "ngettext": (1, 2)}
LIBRARY_MODULES = ("core.py", "decorators.py", "exceptions.py", "formatting.py", "parser.py", "types.py",
                   "termui.py")  # click's modules whose messages reach a user of a command line
LABEL_CONTEXTS = ("column", "sheet")


def po_path(language: str, domain: str = DOMAIN) -> Path:
    return LOCALE / language / "LC_MESSAGES" / f"{domain}.po"


def extracted() -> Catalog:
    """Every msgid of the source, with the places it is used."""
    template = Catalog(project="erp_plugin", domain=DOMAIN)
    for filename, lineno, message, comments, context in extract_from_dir(
            PACKAGE, [("**.py", "python")], keywords=KEYWORDS):
        template.add(message, locations=[(f"erp_plugin/{filename}", lineno)], auto_comments=comments,
                     context=context, flags=("python-brace-format",) if _has_places(message) else ())
    for text, lineno in help_texts():
        template.add(text, locations=[("erp_plugin/cli.py", lineno)],
                     flags=("python-brace-format",) if _has_places(text) else ())
    return template


def help_texts():
    """(help, line) of every command, group and option of ``erp-plugin``, as ``inspect.cleandoc`` gives it."""
    sys.path.insert(0, str(ROOT))
    import click

    from erp_plugin.cli import main as command_line

    def walk(command):
        function = inspect.unwrap(command.callback)
        lineno = function.__code__.co_firstlineno
        for text in (command._help, command._short_help):
            if text:
                yield inspect.cleandoc(text), lineno
        for param in command.params:
            if getattr(param, "_help", None):
                yield inspect.cleandoc(param._help), lineno
        if isinstance(command, click.Group):
            for sub in command.commands.values():
                yield from walk(sub)

    return list(walk(command_line))


def library_extracted() -> Catalog:
    """click's messages for users: usage, help headings, usage errors."""
    import click

    folder = Path(click.__file__).parent
    template = Catalog(project="click", domain=LIBRARY_DOMAIN)
    for filename, lineno, message, comments, context in extract_from_dir(
            folder, [("**.py", "python")], keywords=LIBRARY_KEYWORDS):
        if filename in LIBRARY_MODULES:
            template.add(message, locations=[(f"click/{filename}", lineno)], context=context,
                         flags=("python-brace-format",) if _has_places(message) else ())
    return template


def _has_places(message) -> bool:
    texts = message if isinstance(message, tuple) else (message,)
    return any("{" in text for text in texts)


def read(language: str, domain: str = DOMAIN) -> Catalog:
    path = po_path(language, domain)
    if not path.exists():
        return Catalog(locale=language, project="erp_plugin", domain=domain)
    with path.open("rb") as handle:
        return read_po(handle, locale=language, domain=domain)


def labels(catalog: Catalog) -> list:
    return [m for m in catalog if m.id and m.context in LABEL_CONTEXTS]


def updated(language: str, template: Catalog, label_ids: list, domain: str = DOMAIN) -> Catalog:
    """``language``'s catalog on ``template`` (plus the labels), its translations kept."""
    catalog = read(language, domain)
    full = Catalog(project="erp_plugin", domain=domain)
    for message in template:
        if message.id:
            full.add(message.id, locations=message.locations, flags=message.flags, context=message.context,
                     auto_comments=message.auto_comments)
    for context, name in label_ids:
        full.add(name, context=context)
    created = catalog.creation_date
    catalog.update(full, no_fuzzy_matching=True)
    catalog.obsolete.clear()  # gone from the source: not kept
    if domain == LIBRARY_DOMAIN and language == "en":
        for message in catalog:
            if message.id:
                message.string = message.id  # click's English is its msgid
    catalog.creation_date = created  # no change of date alone makes a file differ
    catalog.fuzzy = False
    catalog.version = "0.1.0"
    catalog.copyright_holder = "erp_plugin"
    catalog.msgid_bugs_address = ""
    catalog.last_translator = "erp_plugin"
    catalog.language_team = {"ru": "Russian", "en": "English"}[language]
    return catalog


def rendered(catalog: Catalog) -> tuple[bytes, bytes]:
    po, mo = io.BytesIO(), io.BytesIO()
    write_po(po, catalog, width=120, omit_header=False, sort_output=False, no_location=False)
    write_mo(mo, catalog)
    return po.getvalue(), mo.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that the catalogs are up to date")
    check = parser.parse_args().check
    templates = {DOMAIN: extracted(), LIBRARY_DOMAIN: library_extracted()}
    label_ids = {DOMAIN: [(m.context, m.id) for m in labels(read("en"))], LIBRARY_DOMAIN: []}
    stale = []
    for language, domain in ((language, domain) for language in LANGUAGES for domain in templates):
        catalog = updated(language, templates[domain], label_ids[domain], domain)
        catalog.revision_date = catalog.creation_date
        po, mo = rendered(catalog)
        mo_path = po_path(language, domain).with_suffix(".mo")
        for path, data in ((po_path(language, domain), po), (mo_path, mo)):
            if not path.exists() or path.read_bytes() != data:
                stale.append(path)
                if not check:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(data)
        missing = [m.id for m in catalog if m.id and (not m.string or m.fuzzy)]
        if missing:
            print(f"{language} {domain}: {len(missing)} msgids without a translation", file=sys.stderr)
    for path in stale:
        print(f"{'stale' if check else 'wrote'} {path.relative_to(ROOT)}", file=sys.stderr)
    return 1 if check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
