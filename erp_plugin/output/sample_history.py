"""A second sample export: two years of a 1C sales report for 40 clients, enough for the analytics reports.

The first sample (sample.py) prices every kind of line but has 6 clients, too few
for the churn model (it needs 10 clients who bought on more than one day). This
one, 01.01.2025 to 18.12.2026, has the 6 template clients (from their join
dates) and the 34 of HISTORY_CLIENTS, which the sample tariff workbook adds to
its Clients sheet: regulars, clients who stopped buying, clients new in 2026,
occasional buyers, partial returns, and one client whose only document is a
return. Each client buys at its own mean gap between documents (a seeded
Poisson process from its first day to its last), so the model fits with room
on every side and p_alive spreads. The birthdays of five clients fall in the 14
days from the last date (18.12.2026 to 01.01.2027, across the year end), one of
them with a phone that is not a valid number.

Deterministic: a fixed seed, the same lines every run.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

from ..xlsx import save_workbook
from .sample import PAYMENTS, Line, build_export, document_lines
from .template import CLIENTS, PRODUCTS

FIRST_DAY = date(2025, 1, 1)
LAST_DAY = date(2026, 12, 18)
SEED = 20251218
PERIOD = f"Период: {FIRST_DAY:%d.%m.%Y} - {LAST_DAY:%d.%m.%Y}"

# client_id, tariff, bonus_mode, joined, name, inn, segments, tier, birthday, email, phone: as CLIENTS.
# No paid tariff (so the monthly fees of the sample programme stay as they are); birthdays as a date,
# as dd.mm.yyyy text or as dd.mm text (year unknown).
HISTORY_CLIENTS = (
    ("00-000107", "", "bonus", date(2022, 3, 14), "ООО «Альфа-Электро»", "7705123452", "regular", "gold",
     date(1971, 5, 19), "opt@alfa-electro.ru", "+7 495 111-22-33"),
    ("00-000108", "", "", date(2023, 8, 1), "ООО «ТехСнаб»", "7810234560", "", "silver",
     "17.12.1977", "info@tehsnab.ru", "+7 812 222-33-44"),
    ("00-000109", "BASE", "half", date(2021, 11, 2), "АО «Энергомонтаж»", "5407345671", "regular", "gold",
     date(1965, 9, 3), "zakaz@energomontazh.ru", "+7 383 333-44-55"),
    ("00-000110", "", "bonus", date(2024, 2, 20), "ООО «Светлый дом»", "6658456788", "", "silver",
     date(1983, 12, 18), "svet@svetdom.ru", "+7 343 444-55-66"),
    ("00-000111", "", "", date(2024, 6, 5), "ИП Петров Сергей Николаевич", "502352601829", "", "bronze",
     "03.03", "petrov.sn@yandex.ru", "8 903 555-66-77"),
    ("00-000112", "", "discount", date(2023, 1, 16), "ООО «Кабельный двор»", "1655567890", "regular", "silver",
     date(1988, 2, 29), "dvor@kabel-dvor.ru", "+7 843 555-66-77"),
    ("00-000113", "BASE", "", date(2022, 10, 10), "ООО «МонтажПро»", "2310678907", "", "bronze",
     "14.08.1992", "mp@montazhpro.ru", "+7 861 666-77-88"),
    ("00-000114", "", "bonus", date(2020, 4, 1), "АО «СибЭнергоСнаб»", "5406789018", "regular, key_account", "gold",
     date(1969, 6, 30), "snab@sibenergo.ru", "+7 383 777-88-99"),
    ("00-000115", "", "half", date(2024, 9, 9), "ООО «Вольт»", "7714890129", "", "silver",
     "24.12.1979", "volt@volt-opt.ru", "+7 495 888-99-00"),
    ("00-000116", "", "", date(2023, 5, 22), "ИП Смирнова Анна Викторовна", "781315908359", "", "bronze",
     "11.10", "smirnova.av@mail.ru", "+7 921 999-00-11"),
    ("00-000117", "", "bonus", date(2021, 7, 7), "ООО «Промсвет»", "3664901230", "regular", "silver",
     date(1976, 1, 25), "promsvet@promsvet.ru", "+7 473 101-20-30"),
    ("00-000118", "", "", date(2024, 3, 3), "ООО «ЭлектроЛюкс-Сервис»", "6315012346", "", "bronze",
     "08.04.1985", "service@el-lux.ru", "+7 846 202-30-40"),
    ("00-000119", "", "discount", date(2022, 12, 12), "ООО «Строй-Ресурс»", "5262123457", "", "bronze",
     date(1981, 7, 14), "resurs@stroyres.ru", "+7 831 303-40-50"),
    ("00-000120", "", "half", date(2023, 2, 1), "ООО «Уралкабель-Торг»", "6671234569", "", "silver",
     "21.05", "torg@uralkabel.ru", "+7 343 404-50-60"),
    ("00-000121", "", "bonus", date(2024, 4, 15), "ИП Кузнецов Олег Игоревич", "662101661397", "", "bronze",
     "29.12", "kuznetsov.oi@gmail.com", "+7 912 505-60-70"),
    ("00-000122", "", "", date(2022, 5, 30), "ООО «Энерготрейд»", "7727345674", "", "bronze",
     date(1990, 9, 17), "trade@energotrade.ru", "+7 495 606-70-80"),
    ("00-000123", "", "", date(2023, 11, 11), "ООО «Дом и Свет»", "7811456781", "", "bronze",
     "06.06.1974", "domsvet@domsvet.ru", "+7 812 707-80-90"),
    ("00-000124", "", "discount", date(2024, 1, 9), "ООО «ЮгЭлектро»", "6164567897", "", "silver",
     date(1986, 3, 8), "yug@yugelectro.ru", "+7 863 808-90-01"),
    ("00-000125", "", "", date(2023, 7, 19), "ИП Волков Дмитрий Андреевич", "183418609132", "", "bronze",
     None, "volkov.da@yandex.ru", "+7 927 909-01-12"),
    ("00-000126", "", "half", date(2022, 9, 1), "ООО «Автоматика-Центр»", "7718678902", "", "bronze",
     "15.11.1982", "centr@avtomatika-c.ru", "+7 495 010-12-23"),
    ("00-000127", "", "", date(2026, 2, 2), "ООО «НоваСтрой»", "7736789010", "", "bronze",
     "01.01.1990", "nova@novastroy.ru", "+7 495 121-23-34"),
    ("00-000128", "", "bonus", date(2026, 3, 16), "ООО «Северный ток»", "2901890120", "", "bronze",
     date(1979, 8, 23), "tok@sevtok.ru", "+7 818 232-34-45"),
    ("00-000129", "", "", date(2026, 4, 20), "ИП Морозова Елена Павловна", "771939099688", "", "bronze",
     "19.04", "morozova.ep@mail.ru", "+7 950 343-45-56"),
    ("00-000130", "", "discount", date(2026, 6, 8), "ООО «Лампа»", "5029901230", "", "bronze",
     date(1995, 10, 2), "lampa@lampa-opt.ru", "+7 498 454-56-67"),
    ("00-000131", "", "", date(2026, 8, 3), "ООО «Техноград»", "7602012341", "", "bronze",
     "30.12", "tg@technograd.ru", "+7 485 12-34"),
    ("00-000132", "", "bonus", date(2026, 9, 14), "ООО «ВекторСтрой»", "7453123451", "", "bronze",
     date(1987, 4, 27), "vs@vectorstroy.ru", "+7 351 565-67-78"),
    ("00-000133", "", "", date(2026, 10, 19), "ИП Белов Артём Сергеевич", "231203082439", "", "bronze",
     "02.01.1985", "belov.as@gmail.com", "+7 904 676-78-89"),
    ("00-000134", "", "", date(2019, 3, 1), "ООО «Старый мастер»", "7707234567", "", "silver",
     date(1960, 2, 14), "master@stmaster.ru", "+7 495 787-89-90"),
    ("00-000135", "", "half", date(2023, 10, 5), "ООО «Ремэлектро»", "4205345677", "", "bronze",
     "12.09.1984", "rem@remelectro.ru", "+7 384 898-90-01"),
    ("00-000136", "", "", date(2021, 6, 18), "ООО «Монолит-Электро»", "7014456780", "", "bronze",
     date(1978, 11, 6), "monolit@monolit-el.ru", "+7 382 909-01-12"),
    ("00-000137", "", "discount", date(2024, 11, 25), "ИП Орлов Павел Юрьевич", "592062819490", "", "bronze",
     "27.07", "orlov.py@yandex.ru", "+7 913 010-21-32"),
    ("00-000138", "", "", date(2022, 2, 8), "ООО «ЭнергоПлюс»", "3525567892", "", "bronze",
     date(1973, 3, 21), "plus@energoplus.ru", "+7 817 121-32-43"),
    ("00-000139", "", "bonus", date(2023, 4, 12), "ООО «Ток-Сервис»", "1101678901", "", "bronze",
     "16.06.1991", "toks@tok-service.ru", "+7 821 232-43-54"),
    ("00-000140", "", "", date(2024, 5, 27), "ООО «Разовый заказ»", "7725789018", "", "bronze",
     "25.08", "razoviy@razoviy.ru", "+7 495 343-54-65"),
)

# How each client buys: its first and last possible day, and the mean days between its documents.
# Regulars from the first day; clients who stopped (their last day well before LAST_DAY); clients new in
# 2026 (from the day they joined); occasional buyers; 00-000139 bought once. 00-000140's only document is a
# return (RETURN_ONLY).
REGULAR, STOPPED, NEW, OCCASIONAL = "regular", "stopped", "new", "occasional"
BUYING = {
    "00-000101": (REGULAR, FIRST_DAY, LAST_DAY, 12), "00-000102": (NEW, date(2026, 2, 10), LAST_DAY, 10),
    "00-000103": (NEW, date(2026, 9, 1), LAST_DAY, 14), "00-000104": (REGULAR, FIRST_DAY, LAST_DAY, 20),
    "00-000105": (NEW, date(2026, 6, 1), LAST_DAY, 18), "00-000106": (REGULAR, FIRST_DAY, LAST_DAY, 30),
    "00-000107": (REGULAR, FIRST_DAY, LAST_DAY, 7), "00-000108": (REGULAR, FIRST_DAY, LAST_DAY, 25),
    "00-000109": (REGULAR, FIRST_DAY, LAST_DAY, 15), "00-000110": (REGULAR, date(2025, 2, 3), LAST_DAY, 35),
    "00-000111": (REGULAR, date(2025, 3, 10), LAST_DAY, 40), "00-000112": (REGULAR, FIRST_DAY, LAST_DAY, 9),
    "00-000113": (REGULAR, FIRST_DAY, LAST_DAY, 21), "00-000114": (REGULAR, FIRST_DAY, LAST_DAY, 6),
    "00-000115": (REGULAR, date(2025, 1, 20), LAST_DAY, 28), "00-000116": (REGULAR, FIRST_DAY, LAST_DAY, 45),
    "00-000117": (REGULAR, FIRST_DAY, LAST_DAY, 11), "00-000118": (REGULAR, date(2025, 4, 1), LAST_DAY, 30),
    "00-000119": (STOPPED, FIRST_DAY, date(2025, 5, 20), 14), "00-000120": (STOPPED, FIRST_DAY, date(2025, 9, 30), 10),
    "00-000121": (STOPPED, date(2025, 2, 1), date(2026, 1, 15), 20), "00-000122": (STOPPED, FIRST_DAY, date(2026, 3, 31), 12),
    "00-000123": (STOPPED, FIRST_DAY, date(2026, 7, 15), 50), "00-000124": (STOPPED, FIRST_DAY, date(2026, 6, 30), 9),
    "00-000125": (STOPPED, date(2025, 3, 3), date(2025, 8, 15), 15), "00-000126": (STOPPED, FIRST_DAY, date(2026, 8, 20), 16),
    "00-000127": (NEW, date(2026, 2, 2), LAST_DAY, 20), "00-000128": (NEW, date(2026, 3, 16), LAST_DAY, 30),
    "00-000129": (NEW, date(2026, 4, 20), LAST_DAY, 45), "00-000130": (NEW, date(2026, 6, 8), LAST_DAY, 15),
    "00-000131": (NEW, date(2026, 8, 3), LAST_DAY, 25), "00-000132": (NEW, date(2026, 9, 14), LAST_DAY, 20),
    "00-000133": (NEW, date(2026, 10, 19), LAST_DAY, 40), "00-000134": (OCCASIONAL, FIRST_DAY, LAST_DAY, 120),
    "00-000135": (OCCASIONAL, FIRST_DAY, LAST_DAY, 90), "00-000136": (OCCASIONAL, FIRST_DAY, LAST_DAY, 150),
    "00-000137": (OCCASIONAL, FIRST_DAY, LAST_DAY, 75), "00-000138": (STOPPED, date(2025, 4, 1), date(2026, 9, 1), 60),
    "00-000139": (STOPPED, date(2025, 6, 16), date(2025, 6, 16), 30),  # one document, never again
}
RETURN_ONLY = ("00-000140", date(2026, 4, 14), [("ЩИТ-24", -2)])  # goods bought before the history began
PARTIAL_RETURNS = ("00-000107", "00-000112", "00-000117", "00-000122")  # one sale each partly returned


def history_lines() -> list[Line]:
    rng = random.Random(SEED)
    clients = {c[0]: c for c in (*CLIENTS, *HISTORY_CLIENTS)}
    docs: list[tuple[date, tuple, list[tuple[str, int]], dict]] = []
    for client_id, (_kind, first, last, gap) in BUYING.items():
        day, sold = first, []
        while day <= last:
            items = [(p[0], rng.choice((1, 2, 5, 10, 20))) for p in rng.sample(PRODUCTS, rng.randint(1, 3))]
            options = dict(
                payment=rng.choice(PAYMENTS),
                reservation_days=rng.choice((0, 0, 3, 7, 14)),
                moneyback_days=rng.choice((0, 14, 30)),
            )
            docs.append((day, clients[client_id], items, options))
            sold.append((day, items, options))
            day += timedelta(days=max(1, round(rng.expovariate(1 / gap))))
        if client_id in PARTIAL_RETURNS:  # some of a sale from the middle of its history comes back
            day, items, options = sold[len(sold) // 2]
            sku, qty = items[0]
            back = day + timedelta(days=rng.randint(3, 12))
            docs.append((min(back, LAST_DAY), clients[client_id], [(sku, -max(1, qty // 2))], options))
    client_id, day, items = RETURN_ONLY
    docs.append((day, clients[client_id], items, dict(moneyback_days=30)))
    docs.append((LAST_DAY, clients["00-000114"], [("КАБ-ВВГ-5х10", 100)], dict(payment="deferral_30")))  # the last date
    return document_lines(docs)


def write_history_export(path: str | Path) -> None:
    save_workbook(build_export(LAST_DAY.year, history_lines(), PERIOD), Path(path), deterministic=True)
