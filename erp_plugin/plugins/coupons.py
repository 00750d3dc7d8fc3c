"""Coupons: issued over the export by ``CouponRules``, redeemed through its ``coupon`` column (SPEC §7, §5.3).

Issuance: a client's documents with gross >= min_document (gross, so a coupon's
own discount cannot change what qualifies), in date then document order; each
time their count reaches a multiple of every_n_documents, the coupon
``<rule_id>-<client_id>-<seq>`` is issued on that document's date, valid
through the month's end or N days after issue.

Redemption: a code on a document acts as a stacking discount over all that
document's lines when it is the first use, by its own client, on a later
document dated within its validity. Any other use is refused with a warning
and gives no discount; a code that was never issued is an error for the lines
that carry it.

With a ledger (SPEC §8 Coupons), the clients' earlier qualifying documents come
first in each count, so a later export continues it, and the coupons they issued
can be redeemed here; a coupon used by an earlier export is used.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..i18n import msg
from ..lines import SOURCE_ROW, with_columns
from ..money import pct_to_scaled
from ..pipeline import Findings, LinePlugin, PluginResult, RunContext
from ..tables import DATE, PCT, TEXT, ColumnKind, Table

COLUMNS = ["code", "rule_id", "client_id", "issued_on", "valid_to", "issued_doc", "discount_pct", "used_doc", "used_on"]


def _documents(lines: pd.DataFrame) -> pd.DataFrame:
    """One row per (document, client), with its date, gross and place in date-then-document order."""
    docs = (
        lines.groupby(["doc_id", "client_id"], observed=True, sort=False)
        .agg(date=("date", "min"), gross=("gross", "sum"), first_row=(SOURCE_ROW, "min"))
        .reset_index()
    )
    docs["doc_text"] = docs["doc_id"].astype(str)
    docs = docs.sort_values(["date", "doc_text"], kind="stable").reset_index(drop=True)
    docs["order"] = np.arange(len(docs))
    return docs


def issue(lines: pd.DataFrame, ctx: RunContext, docs: pd.DataFrame) -> pd.DataFrame:
    """The coupons of every rule over the client's qualifying documents: the ledger's earlier ones
    (``ctx.opening``, issued_order < 0) first, then the export's; each n-th issues one."""
    issued = []
    earlier = ctx.opening.coupon_documents if ctx.opening is not None else None
    for rule in ctx.book.coupon_rules:
        qualifying = docs[docs["gross"] >= rule.min_document][["client_id", "date", "doc_text", "order"]]
        qualifying = qualifying.assign(client_id=qualifying["client_id"].astype(str))
        if earlier is not None and len(earlier):
            before = earlier[earlier["rule_id"] == rule.rule_id].sort_values(["date", "doc_id"], kind="stable")
            before = pd.DataFrame({"client_id": before["client_id"].astype(str), "date": pd.to_datetime(before["date"]),
                                   "doc_text": before["doc_id"], "order": np.arange(-len(before), 0)})
            qualifying = pd.concat([before, qualifying], ignore_index=True)
        qualifying = qualifying.assign(count=qualifying.groupby("client_id", sort=False).cumcount() + 1)
        hits = qualifying[qualifying["count"] % rule.every_n_documents == 0]
        if hits.empty:
            continue
        seq = (hits["count"] // rule.every_n_documents).astype(int).astype(str)
        client = hits["client_id"].astype(str)
        if rule.valid_days is None:
            valid_to = hits["date"] + pd.offsets.MonthEnd(0)
        else:
            valid_to = hits["date"] + pd.Timedelta(days=rule.valid_days)
        issued.append(pd.DataFrame({
            "code": rule.rule_id + "-" + client + "-" + seq,
            "rule_id": rule.rule_id,
            "client_id": client,
            "issued_on": hits["date"],
            "valid_to": valid_to,
            "issued_doc": hits["doc_text"],
            "discount_pct": pct_to_scaled(rule.discount_pct),
            "issued_order": hits["order"],
        }))
    if not issued:
        return pd.DataFrame(columns=[*COLUMNS[:7], "issued_order"])
    return pd.concat(issued, ignore_index=True)


def qualifying_documents(ctx: RunContext, docs: pd.DataFrame) -> pd.DataFrame:
    """The export's qualifying documents per rule, for the ledger to continue the counts from."""
    parts = [docs[docs["gross"] >= rule.min_document].assign(rule_id=rule.rule_id) for rule in ctx.book.coupon_rules]
    found = pd.concat(parts, ignore_index=True) if parts else docs.iloc[:0].assign(rule_id="")
    return pd.DataFrame({"rule_id": found["rule_id"], "client_id": found["client_id"].astype(str),
                         "doc_id": found["doc_text"], "doc_year": pd.DatetimeIndex(found["date"]).year,
                         "date": found["date"]})


def plugin(lines: pd.DataFrame, ctx: RunContext) -> PluginResult:
    codes_given = "coupon" in lines.columns and lines["coupon"].notna().any()
    if not ctx.book.coupon_rules and not codes_given:  # nothing to issue or redeem
        # no coupon rule: one read-only 0 seen as a column, no memory
        return PluginResult(with_columns(lines, coupon_pct=np.broadcast_to(np.int64(0), len(lines)),
                                         coupon_applied=_no_coupons(len(lines))))
    found = Findings()
    docs = _documents(lines)
    coupons = issue(lines, ctx, docs)
    uses = ctx.opening.coupon_uses if ctx.opening is not None else {}
    coupons["used_doc"] = coupons["code"].map(lambda code: uses[code][0] if code in uses else None).astype(object)
    coupons["used_on"] = pd.to_datetime(coupons["code"].map(lambda code: uses[code][1] if code in uses else None))
    used_before = coupons["used_doc"].notna().to_numpy()
    pct, code_per_line = np.zeros(len(lines), dtype=np.int64), _no_coupons(len(lines))
    if "coupon" in lines.columns and lines["coupon"].notna().any():
        pct, code_per_line = _redeem(lines, ctx, found, docs, coupons)
    kinds: dict[str, ColumnKind] = {
        "issued_on": DATE, "valid_to": DATE, "used_on": DATE, "discount_pct": PCT, "code": TEXT,
    }
    # this export's: the coupons it issued and those it used (earlier ones come from the ledger)
    mine = coupons[(coupons["issued_order"].to_numpy() >= 0) | (coupons["used_doc"].notna().to_numpy() & ~used_before)]
    if ctx.book.coupon_rules:
        found.tables["coupons"] = Table("coupons", mine[COLUMNS].reset_index(drop=True), kinds)
        found.kept["coupons"] = mine[COLUMNS].reset_index(drop=True)
        found.kept["coupon_documents"] = qualifying_documents(ctx, docs)
    return found.result(with_columns(lines, coupon_pct=pct, coupon_applied=code_per_line))


def _no_coupons(n: int) -> pd.Categorical:
    return pd.Categorical.from_codes(np.full(n, -1, dtype=np.int8), categories=pd.Index([], dtype=object))


def _redeem(lines: pd.DataFrame, ctx: RunContext, found: Findings, docs: pd.DataFrame, coupons: pd.DataFrame):
    """Each line's coupon discount (percent units) and the coupon it was given by (a categorical)."""
    by_code = {code: i for i, code in enumerate(coupons["code"])}
    used = lines[lines["coupon"].notna()]
    uses = (
        used.groupby(["doc_id", "client_id", "coupon"], observed=True, sort=False)[SOURCE_ROW].min().reset_index()
        .merge(docs[["doc_id", "client_id", "date", "order"]], on=["doc_id", "client_id"])
        .sort_values("order", kind="stable")
    )
    pct = np.zeros(len(lines), dtype=np.int64)
    coupon_of_line, applied = np.full(len(lines), -1, dtype=np.int32), {}
    doc_codes = lines["doc_id"].array.codes
    client_codes = lines["client_id"].array.codes
    line_coupons = lines["coupon"].astype(object).to_numpy()
    # the lines of documents that carry a coupon, sorted by document once: each use is then a slice
    involved = np.flatnonzero(np.isin(doc_codes, used["doc_id"].cat.codes.unique()))
    involved = involved[np.argsort(doc_codes[involved], kind="stable")]
    involved_docs = doc_codes[involved]
    doc_index = lines["doc_id"].cat.categories
    client_index = lines["client_id"].cat.categories
    for use in uses.itertuples(index=False):  # one iteration per coupon use, not per line
        code = str(use.coupon).strip()
        doc = doc_index.get_loc(use.doc_id)
        in_doc = involved[np.searchsorted(involved_docs, doc, "left"):np.searchsorted(involved_docs, doc, "right")]
        in_doc = in_doc[client_codes[in_doc] == client_index.get_loc(use.client_id)]
        if code not in by_code:
            carrying = np.zeros(len(lines), dtype=bool)
            carrying[in_doc[line_coupons[in_doc] == use.coupon]] = True
            found.flag(lines, carrying, "coupon", "price.coupon_unknown",
                     msg("coupon {code!r} was never issued; check the code (coupons are "
                         "<rule>-<client>-<number>)",
                         code=code))
            continue
        i = by_code[code]
        coupon = coupons.iloc[i]
        refusal = None
        if coupon["client_id"] != str(use.client_id):
            refusal = msg("belongs to client {owner}, not {client}", owner=coupon["client_id"], client=use.client_id)
        elif pd.notna(coupons.at[i, "used_doc"]):
            refusal = msg("was already used on {document}", document=coupons.at[i, "used_doc"])
        elif use.order <= coupon["issued_order"]:
            refusal = msg("was issued on {document}; it is good for a later document only", document=coupon["issued_doc"])
        elif use.date > coupon["valid_to"]:
            refusal = msg("expired on {day:%d.%m.%Y}", day=coupon["valid_to"])
        if refusal:
            found.warn("price.coupon_refused", msg("coupon {code} {refusal}: no discount", code=code, refusal=refusal), row=int(getattr(use, SOURCE_ROW)),
                     field_name="coupon")
            continue
        coupons.at[i, "used_doc"] = str(use.doc_id)
        coupons.at[i, "used_on"] = use.date
        pct[in_doc] += int(coupon["discount_pct"])
        coupon_of_line[in_doc] = applied.setdefault(code, len(applied))
    return pct, pd.Categorical.from_codes(coupon_of_line, categories=pd.Index(list(applied), dtype=object))


PLUGIN = LinePlugin("coupons", 600, needs=("gross", "doc_id", "client_id", "date"), adds=("coupon_pct", "coupon_applied"),
                    apply=plugin)
