"""The client's name and INN beside its id in every per-client table a person reads (issue 19).

Result tables hold ``client_id`` only (the engine's key); the files written for people get the
``Clients`` sheet's ``name`` and ``inn`` right after it, so a sales manager or an accountant sees
who «00-000104» is without a lookup. A table that has them already (credit notes, fees, the
analytics' ``name``) keeps its own; a client missing from ``Clients`` gets blanks. Nothing is added
when the workbook lists no names or INNs at all (a ledger report run without ``--tariffs``).
"""

from __future__ import annotations

import pandas as pd

from ..tables import TEXT, Table
from ..tariffs.model import TariffBook


def with_names(table: Table, book: TariffBook | None) -> Table:
    """``table`` with ``name`` and ``inn`` after its ``client_id`` (those it lacks), from ``book``'s Clients."""
    frame = table.frame
    if book is None or "client_id" not in frame.columns:
        return table
    clients = book.clients
    wanted = [field for field in ("name", "inn") if field not in frame.columns]
    if not wanted or not any(c.name or c.inn for c in clients.values()):
        return table
    ids = frame["client_id"].astype(object)
    codes, distinct = pd.factorize(ids)
    columns = list(frame.columns)
    at = columns.index("name") + 1 if "name" in columns else columns.index("client_id") + 1
    added = {}
    for field in wanted:
        values = pd.Series([getattr(clients[c], field) if c in clients else None for c in distinct], dtype=object)
        added[field] = values.to_numpy(dtype=object)[codes] if len(codes) else values.to_numpy(dtype=object)[:0]
    named = pd.concat([frame.iloc[:, :at], pd.DataFrame(added, index=frame.index), frame.iloc[:, at:]], axis=1)
    return Table(table.name, named, {**table.kinds, **dict.fromkeys(added, TEXT)})


def named(tables, book: TariffBook | None) -> list[Table]:
    """Each of ``tables`` (a list, or a dict's values) with_names."""
    return [with_names(t, book) for t in (tables.values() if isinstance(tables, dict) else tables)]
