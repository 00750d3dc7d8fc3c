"""--help and click's own usage errors in the chosen language: --lang in the arguments, else the locale, else
Russian (the tariff workbook cannot be read before the arguments are parsed); exit 2 for a usage error."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner

from erp_plugin.cli import main

NO_LOCALE = {"LC_ALL": "", "LC_MESSAGES": "", "LANG": ""}


def run(*args, env=None):
    result = CliRunner().invoke(main, list(args), env=env or NO_LOCALE, prog_name="erp-plugin")
    assert "Traceback" not in result.output, result.output
    return result


def test_the_main_help_is_russian_without_a_locale():
    done = run("--help")
    assert done.exit_code == 0
    assert done.stdout.startswith("Использование: erp-plugin [OPTIONS] COMMAND [ARGS]...")
    assert "Программа лояльности для дистрибьюторов" in done.stdout
    assert "\nПараметры:\n" in done.stdout and "\nКоманды:\n" in done.stdout
    assert "-h, --help  Показать эту справку и выйти." in done.stdout
    assert "--version   Показать версию и выйти." in done.stdout
    assert "Price every" not in done.stdout and "Options:" not in done.stdout


def test_the_main_help_follows_an_english_locale():
    done = run("--help", env={"LC_ALL": "", "LC_MESSAGES": "", "LANG": "en_GB.UTF-8"})
    assert done.stdout.startswith("Usage: erp-plugin [OPTIONS] COMMAND [ARGS]...")
    assert "Loyalty programme for distributors" in done.stdout and "\nCommands:\n" in done.stdout
    assert "Show this message and exit." in done.stdout


def test_a_command_help_in_russian_and_with_lang_en():
    ru = run("price", "--help")
    assert ru.exit_code == 0
    assert ru.stdout.startswith("Использование: erp-plugin price [OPTIONS] EXPORT")
    assert "Рассчитать каждую строку выгрузки ERP по тарифной книге" in ru.stdout
    flat = " ".join(ru.stdout.split())  # help text is wrapped to the width
    assert "--tariffs PATH Тарифная книга. [required]" in flat
    assert "Пропустить неверные строки и перечислить их как предупреждения." in flat
    en = run("price", "--help", "--lang", "en", env={"LC_ALL": "", "LC_MESSAGES": "", "LANG": "ru_RU.UTF-8"})
    assert en.stdout.startswith("Usage: erp-plugin price [OPTIONS] EXPORT")  # --lang over the locale
    flat = " ".join(en.stdout.split())
    assert "Price every line of an ERP export under the tariff workbook" in flat
    assert "--tariffs PATH The tariff workbook. [required]" in flat
    assert "Leave out bad lines and list them as warnings." in flat
    same = run("price", "--lang=en", "--help")
    assert same.stdout == en.stdout


def test_an_unknown_option_is_a_usage_error_in_the_language():
    ru = run("price", "--bogus")
    assert ru.exit_code == 2
    assert "Ошибка: Нет такого параметра '--bogus'." in ru.stderr
    assert "Справка: 'erp-plugin price --help'." in ru.stderr
    assert ru.stderr.startswith("Использование: erp-plugin price [OPTIONS] EXPORT")
    en = run("price", "--bogus", "--lang", "en")
    assert en.exit_code == 2
    assert "Error: No such option '--bogus'." in en.stderr and "Try 'erp-plugin price --help' for help." in en.stderr


def test_a_missing_argument_and_a_bad_choice_are_usage_errors_in_the_language():
    ru = run("validate")
    assert ru.exit_code == 2 and "Ошибка: Не указан аргумент 'TARIFFS'." in ru.stderr
    en = run("validate", env={"LC_ALL": "", "LC_MESSAGES": "en_US.UTF-8", "LANG": ""})
    assert en.exit_code == 2 and "Error: Missing argument 'TARIFFS'." in en.stderr
    wrong = run("price", "x.xlsx", "--lang", "de")
    assert wrong.exit_code == 2 and "Неверное значение '--lang': 'de' — не одно из 'ru', 'en'." in wrong.stderr
    assert "Ошибка: Нет такой команды 'prise'." in run("prise").stderr


@pytest.mark.parametrize("language", ["ru", "en"])
def test_the_process_text_domain_and_language_are_restored(language):
    """click's catalog is the process's text domain only while the command runs."""
    import gettext

    before = gettext.textdomain(), os.environ.get("LANGUAGE")
    run("--help", "--lang", language)
    run("price", "--bogus", "--lang", language)
    assert (gettext.textdomain(), os.environ.get("LANGUAGE")) == before


def test_the_version_in_either_language():
    from erp_plugin import __version__

    assert run("--version").stdout == f"erp-plugin, версия {__version__}\n"
    english = run("--version", env={"LC_ALL": "", "LC_MESSAGES": "en_US.UTF-8", "LANG": ""})
    assert english.exit_code == 0 and english.stdout == f"erp-plugin, version {__version__}\n"
