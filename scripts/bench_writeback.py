"""Benchmark: read + compute + write back a big 1C-style export, against openpyxl doing the same write.

    python scripts/bench_writeback.py                 # 200 000 lines (the issue's size)
    python scripts/bench_writeback.py --lines 20000   # a quick run

Builds the export once (a title block, Russian headers, a quarter of the numbers
as text with non-breaking spaces and decimal commas, a totals row), then runs
each job in its own process and reports its wall time and peak memory:

* product: ``erp-plugin read EXPORT --out OUT`` as a user runs it (the whole
  command: start, imports) — read with calamine, parse every field, compute
  ``gross``, stream the result column back into a copy of the export;
* openpyxl: ``load_workbook`` + write the same column into every line + ``save``.
"""

from __future__ import annotations

import argparse
import random
import re
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from benchjobs import ERP_PLUGIN, command, run

TITLE = ["Продажи по номенклатуре"]
HEADERS = ["Дата", "Документ", "№", "Код контрагента", "Контрагент", "ИНН", "Артикул", "Номенклатура", "Группа",
           "Количество", "Цена", "Сумма", "Ставка НДС", "Оплата", "Резерв, дней", "Возврат, дней",
           "Оплачено бонусами", "Купон"]


def build_export(path: Path, lines: int, seed: int = 7) -> None:
    from openpyxl import Workbook

    rng = random.Random(seed)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("TDSheet")
    ws.append(TITLE)
    ws.append(["Период: 01.01.2026 - 31.12.2026"])
    ws.append([])
    ws.append(HEADERS)
    start = date(2026, 1, 1)
    doc, in_doc, total = 0, 0, 0
    for i in range(lines):
        if in_doc == 0:
            doc += 1
            in_doc = rng.randint(1, 8)
            day = start + timedelta(days=rng.randint(0, 360))
            client = f"00-{rng.randint(1, 20000):06d}"
        in_doc -= 1
        qty = rng.choice((1, 2, 3, 5, 10, 20, 50, -1))
        cents = rng.randint(100, 5_000_000)
        amount = qty * cents
        total += amount
        price = f"{cents // 100}.{cents % 100:02d}"
        as_text = i % 4 == 3
        ws.append([
            day.strftime("%d.%m.%Y") if as_text else day,
            f"Реализация товаров и услуг 00-{doc:06d} от {day:%d.%m.%Y}",
            i % 8 + 1,
            client,
            f"Клиент {client}",
            "7701234567",
            f"SKU-{rng.randint(1, 50000):05d}",
            "Товар",
            rng.choice(("Кабель", "Автоматика", "Щиты")),
            str(qty) if as_text else qty,
            price.replace(".", ",") if as_text else float(price),
            f"{amount / 100:,.2f}".replace(",", "\u00a0").replace(".", ",") if as_text else amount / 100,
            "22%",
            rng.choice(("prepaid", "deferral_30")),
            rng.choice((None, 3, 7)),
            rng.choice((None, 14, 30)),
            None,
            None,
        ])
    ws.append(["Итого"] + [None] * 10 + [total / 100])
    wb.save(path)


OPENPYXL_JOB = """
import json, resource, sys, time
started = time.perf_counter()  # from the start, imports included, as the product's command is timed
import openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
ws = wb["TDSheet"]
ws.cell(row=4, column=19, value="gross")
lines = 0
for row in range(5, ws.max_row):
    qty, price = ws.cell(row=row, column=10).value, ws.cell(row=row, column=11).value
    ws.cell(row=row, column=19, value=0 if qty is None else 1)
    lines += 1
wb.save(sys.argv[2])
elapsed = time.perf_counter() - started
print(json.dumps({"seconds": elapsed, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "lines": lines}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=200_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        export = Path(tmp) / "export.xlsx"
        started = time.perf_counter()
        build_export(export, args.lines)
        print(f"built a {args.lines:,}-line 1C-style export ({export.stat().st_size / 1e6:.1f} MB) "
              f"in {time.perf_counter() - started:.1f} s")
        product = run(*command(ERP_PLUGIN, "read", export, "--out", Path(tmp) / "product.xlsx"))
        product["lines"] = int(re.search(r"^(\d+) lines,", product["stdout"], re.MULTILINE).group(1))
        baseline = run(OPENPYXL_JOB, str(export), str(Path(tmp) / "openpyxl.xlsx"))
    print(f"{'job':<34}{'seconds':>10}{'peak MB':>10}")
    print(f"{'erp-plugin read+compute+write':<34}{product['seconds']:>10.1f}{product['peak_mb']:>10.0f}")
    print(f"{'openpyxl load+append+save':<34}{baseline['seconds']:>10.1f}{baseline['peak_mb']:>10.0f}")
    ratio = product["seconds"] / baseline["seconds"]
    print(f"time ratio {ratio:.2f} (target <= 0.30), product peak {product['peak_mb']:.0f} MB (target <= 800)")
    assert product["lines"] == args.lines, (product["lines"], args.lines)


if __name__ == "__main__":
    main()
