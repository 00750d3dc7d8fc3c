"""Counts stay true whatever is listed: a cap's note counts what it leaves out, grouped warnings count
their lines, and lists made apart (the Dask engine's buckets) combine into one run's list."""

import pandas as pd

from erp_plugin import pipeline
from erp_plugin.problems import Problem, combined, total, unlisted


def warning(row, code="price.x", **more):
    return Problem(code, f"line {row}", "warning", row=row, **more)


def test_a_cap_lists_the_first_lines_and_counts_the_rest(monkeypatch):
    monkeypatch.setattr(pipeline, "MAX_LINE_PROBLEMS", 2)
    found = pipeline.Findings()
    for row in (5, 6, 7, 8, 9):
        found.warn("price.x", f"line {row}", row=row)
    found.warn("price.y", "line 3", row=3)
    problems = list(found.result(pd.DataFrame()).problems)
    assert [(p.code, p.row, p.count, p.unlisted) for p in problems] == [
        ("price.x", 5, 1, False), ("price.x", 6, 1, False), ("price.y", 3, 1, False), ("price.x", None, 3, True)]
    assert problems[-1].message == "and 3 more lines with the same problem, counted here but not listed one by one"
    assert (total(problems), unlisted(problems)) == (6, 3)


def test_buckets_combine_into_one_runs_list():
    """Bucket A lists rows 4 and 9 of price.x and counts 3 more; bucket B lists 2 and 7 and counts 1 more:
    the run lists rows 2 and 4 and counts 9, 7 and the 4 counted = 6; the groups of one code join."""
    bucket_a = [warning(4), warning(9), Problem("price.x", "and 3 more", "warning", count=3, unlisted=True),
                warning(10, "price.g", count=3, group="green: ALL5", rank=70000),
                warning(12, "price.g", count=1, group="red: -", rank=20000)]
    bucket_b = [warning(2), warning(7), Problem("price.x", "and 1 more", "warning", count=1, unlisted=True),
                warning(8, "price.g", count=2, group="green: ALL5", rank=70000),  # as bad, earlier: listed
                warning(3, "price.g", count=5, group="green: T3", rank=90000)]
    run = combined([*bucket_a, *bucket_b], cap=2)
    assert [(p.code, p.row, p.count, p.group) for p in run] == [
        ("price.x", 2, 1, None), ("price.x", 4, 1, None), ("price.x", None, 6, None),
        ("price.g", 3, 5, "green: T3"), ("price.g", 8, 5, "green: ALL5"), ("price.g", 12, 1, "red: -")]
    assert (total(run), unlisted(run)) == (1 + 1 + 6 + 5 + 5 + 1, 6)
    assert combined(run, cap=2) == run  # combined again, the same list
    assert combined([*bucket_b, *bucket_a], cap=2)[3:] == run[3:]  # groups do not depend on the buckets' order
