"""Messages in the user's language: gettext catalogs ``ru`` and ``en`` (``erp_plugin/locale``).

The catalogs are extracted from the source and compiled with Babel
(``scripts/catalogs.py``); the compiled ``.mo`` files ship with the package, so
only the standard library's ``gettext`` reads them at run time.

A message that reaches a user is written in the source as a msgid in English
with named placeholders — ``msg("{label} is blank; expected {expected}",
label=..., expected=...)`` — and stays that English text as a ``str`` for code
and tests, while the faces render it in the chosen language with
``translate``. Placeholders that are themselves messages are translated too.
Result column headers and sheet names are msgids under a context
(``label("column", "net")``), so the canonical snake_case name is the key and
both languages give a label.

The language is chosen by the faces (``use``): ``--lang``, else the tariff
workbook's Settings ``language``, else the locale (``LC_ALL``,
``LC_MESSAGES``, ``LANG``), else Russian. Nothing here changes anything
process-wide: the choice is a context variable — except ``library_messages``,
which the command line wraps around its parsing: click writes its usage, help
headings and usage errors through the standard library's process-wide
``gettext.gettext``, so their catalog (domain ``click``, extracted from the
installed click by ``scripts/catalogs.py``) is made the process's text domain
and ``LANGUAGE`` names the language for as long as the command runs.
"""

from __future__ import annotations

import gettext
import inspect
import os
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path
from typing import Iterator, Mapping

DOMAIN = "erp_plugin"
LIBRARY_DOMAIN = "click"  # click's own messages (usage, help headings, usage errors)
LANGUAGES = ("ru", "en")
DEFAULT_LANGUAGE = "ru"
LOCALE_DIR = Path(__file__).with_name("locale")
LOCALE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG")  # POSIX precedence for messages

_chosen: ContextVar[str | None] = ContextVar("erp_plugin_language", default=None)


class Message(str):
    """A msgid with its named values: as a ``str`` it is the English text; ``translate`` renders it in a language."""

    template: str
    params: Mapping[str, object]

    def __new__(cls, template: str, **params) -> Message:
        text = template.format(**params) if params else template
        self = super().__new__(cls, text)
        self.template = template
        self.params = params
        return self

    def __reduce__(self):  # pickled (to a Dask worker and back) as its template and values, not its text
        return _message, (self.template, dict(self.params))


def _message(template: str, params: dict) -> Message:
    return Message(template, **params)


class Number:
    """A decimal placed into a message, written the language's way by Babel: «1 234,56», «12,5» in Russian,
    "1,234.56", "12.5" in English (the English text of a ``Message``). ``decimals``: exactly that many (money:
    its currency's minor units, so an amount is exact); else at most ``most``, rounded half away from zero
    (``most=None``: every decimal the value has, as a person typed it: ``7.50`` → «7,5»)."""

    __slots__ = ("value", "pattern")

    def __init__(self, value, decimals: int | None = None, most: int | None = 3):
        value = value if isinstance(value, Decimal) else Decimal(str(value))
        if decimals is None and most is None:
            most = max(0, -int(value.normalize().as_tuple().exponent))
        places = most if decimals is None else decimals
        if value.as_tuple().exponent < -places:  # type: ignore[operator]  # (a finite decimal's exponent is an int)
            value = value.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)
        self.value = value
        self.pattern = "#,##0" + ("." + ("0" if decimals is not None else "#") * places if places else "")

    @classmethod
    def money(cls, minor: int, units: int) -> Number:
        """An amount in minor units, exact, with its currency's decimals."""
        return cls(Decimal(int(minor)).scaleb(-units), decimals=units)

    def text(self, language: str) -> str:
        from babel.numbers import (
            format_decimal,  # loaded only when a message holds a number
        )

        return format_decimal(self.value, format=self.pattern, locale=language, decimal_quantization=False)

    def __format__(self, spec: str) -> str:
        return self.text("en")

    def __str__(self) -> str:
        return self.text("en")

    def __repr__(self) -> str:
        return f"Number({self.value!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Number) and (self.value, self.pattern) == (other.value, other.pattern)

    def __hash__(self) -> int:
        return hash((self.value, self.pattern))

    def __reduce__(self):
        return _number, (self.value, self.pattern)


def _number(value: Decimal, pattern: str) -> Number:
    number = Number.__new__(Number)
    number.value, number.pattern = value, pattern
    return number


def msg(template: str, **params) -> Message:
    """A message for a user: ``template`` is the English msgid, ``params`` fill its ``{named}`` places."""
    return Message(template, **params)


def joined(separator: str, items) -> Message:
    """``items`` (messages or text) joined by ``separator``, each translated in its turn: a list of hints."""
    items = list(items)
    template = "{separator}".join(f"{{item{i}}}" for i in range(len(items)))
    return Message(template, separator=separator, **{f"item{i}": item for i, item in enumerate(items)})


def N_(template: str) -> Message:  # noqa: N802 — gettext's name for a message marked for extraction
    """A message without values (a fragment placed into another, a label kept in a constant)."""
    return Message(template)


def normalize(language: str | None) -> str | None:
    """``ru``/``en`` from ``ru``, ``RU``, ``ru_RU.UTF-8``, ``en-GB``; None for anything else (``C``, ``de_DE``)."""
    if not language:
        return None
    code = language.strip().replace("-", "_").split(".")[0].split("@")[0].split("_")[0].casefold()
    return code if code in LANGUAGES else None


def from_locale(environ: Mapping[str, str] | None = None) -> str | None:
    """The language of the environment's locale: the first of LC_ALL, LC_MESSAGES, LANG that is set decides."""
    environ = os.environ if environ is None else environ
    for name in LOCALE_VARIABLES:
        value = environ.get(name)
        if value:
            return normalize(value)
    return None


def choose(given: str | None = None, workbook: str | None = None, environ: Mapping[str, str] | None = None) -> str:
    """``--lang``, else the workbook's Settings ``language``, else the locale, else Russian."""
    return normalize(given) or normalize(workbook) or from_locale(environ) or DEFAULT_LANGUAGE


def current() -> str:
    """The language chosen by ``use``, else the locale's, else Russian."""
    return _chosen.get() or from_locale() or DEFAULT_LANGUAGE


@contextmanager
def use(language: str) -> Iterator[str]:
    """Messages, labels and sheet names in ``language`` inside the block."""
    token = _chosen.set(normalize(language) or DEFAULT_LANGUAGE)
    try:
        yield _chosen.get()
    finally:
        _chosen.reset(token)


@lru_cache(maxsize=None)
def catalog(language: str) -> gettext.GNUTranslations:
    """The compiled catalog of ``language`` (shipped with the package; a missing one is a broken install)."""
    return gettext.translation(DOMAIN, LOCALE_DIR, [language])


def help_text(text: str | None, language: str | None = None) -> str | None:
    """A command's or option's help (its docstring or ``help=``, the msgid as ``inspect.cleandoc`` gives it)
    in ``language``."""
    if not text:
        return text
    return catalog(language or current()).gettext(inspect.cleandoc(text))


@contextmanager
def library_messages(language: str) -> Iterator[None]:
    """click's own messages in ``language`` inside the block: the process's gettext domain is click's catalog
    and ``LANGUAGE`` (which gettext reads first) is ``language``; both as they were afterwards."""
    domain, given = gettext.textdomain(), os.environ.get("LANGUAGE")
    gettext.bindtextdomain(LIBRARY_DOMAIN, str(LOCALE_DIR))
    gettext.textdomain(LIBRARY_DOMAIN)
    os.environ["LANGUAGE"] = normalize(language) or DEFAULT_LANGUAGE
    try:
        yield
    finally:
        gettext.textdomain(domain)
        if given is None:
            os.environ.pop("LANGUAGE", None)
        else:
            os.environ["LANGUAGE"] = given


def translate(text: object, language: str | None = None) -> str:
    """``text`` in ``language`` (default: ``current()``): a Message through the catalog, its values too (an
    exception raised with a Message counts as it); any other text as it is."""
    if isinstance(text, BaseException) and text.args and isinstance(text.args[0], Message):
        text = text.args[0]  # an error raised with a message (MoneyError), placed in another message
    if not isinstance(text, Message):
        return str(text)
    language = language or current()
    template = catalog(language).gettext(text.template)
    if not text.params:
        return template
    return template.format(**{name: _rendered(value, language) for name, value in text.params.items()})


def _rendered(value: object, language: str) -> object:
    """A message's value in ``language``: a message translated, a number written the language's way."""
    if isinstance(value, (Message, BaseException)):  # an error raised with a message (MoneyError) is that message
        return translate(value, language)
    if isinstance(value, Number):
        return value.text(language)
    return value


def gettext_(template: str, language: str | None = None, **params) -> str:
    """A message for the faces, rendered at once."""
    return translate(Message(template, **params), language)


_ = gettext_


def label(context: str, name: str, language: str | None = None) -> str:
    """The label of a canonical name under a context: ``label("column", "net")`` → «Нетто» / "Net"."""
    return catalog(language or current()).pgettext(context, name)


def column_label(name: str, language: str | None = None) -> str:
    """A result column's header in an xlsx write-back; csv and parquet keep ``name`` itself."""
    return label("column", name, language)


def sheet_label(name: str, language: str | None = None) -> str:
    """A result table's sheet name (at most 31 characters, none of []:*?/\\)."""
    return label("sheet", name, language)


def chosen() -> str | None:
    """The language a face chose with ``use``; None in a script's call, whose files keep the canonical names."""
    return _chosen.get()


def written(text: object) -> str:
    """A message as a file holds it (the Warnings table): in the chosen language, English in a script's call."""
    language = chosen()
    return translate(text, language) if language else str(text)


def header(name: str) -> str:
    """A result column's header in a workbook: its label in the chosen language, else ``name`` itself."""
    language = chosen()
    return column_label(name, language) if language else name


def sheet_title(name: str, canonical: str) -> str:
    """A result table's sheet name: its label in the chosen language, else ``canonical`` (``CreditNotes``)."""
    language = chosen()
    return sheet_label(name, language) if language else canonical


def plural(singular: str, plural_: str, count: int, language: str | None = None, **params) -> str:
    """A counted phrase: Russian has three forms (1 строка, 2 строки, 5 строк), English two."""
    template = catalog(language or current()).ngettext(singular, plural_, count)
    return template.format(count=count, **params)
