"""erp_plugin: a B2B loyalty programme kept in an Excel tariff workbook, applied to ERP sales exports."""

__version__ = "0.1.0"

from .api import init, load_tariffs, price, read, validate  # noqa: E402
from .problems import InputError, Problem  # noqa: E402

__all__ = ["__version__", "init", "load_tariffs", "price", "read", "validate", "InputError", "Problem"]
