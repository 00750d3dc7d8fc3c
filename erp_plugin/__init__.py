"""erp_plugin: a B2B loyalty programme kept in an Excel tariff workbook, applied to ERP sales exports.

The operations for scripts (``erp_plugin.price``, ``erp_plugin.rebates``, …) are those of
``erp_plugin.api``; they are imported on first use, so that ``erp-plugin --help`` and
``import erp_plugin`` stay quick (no pandas, pyarrow or SQLAlchemy until a job needs them).
"""

__version__ = "0.1.0"

OPERATIONS = ("init", "validate", "load_tariffs", "read", "price", "rebates", "accrue", "fees", "impact", "read_priced",
              "ledger_balance", "ledger_history", "ledger_statement", "ledger_liability", "report_rfm", "report_churn",
              "report_birthdays", "Result")
__all__ = ["__version__", *OPERATIONS, "InputError", "Problem"]


def __getattr__(name: str):
    if name in OPERATIONS:
        from . import api

        return getattr(api, name)
    if name in ("InputError", "Problem"):
        from . import problems

        return getattr(problems, name)
    raise AttributeError(f"module 'erp_plugin' has no attribute {name!r}")
