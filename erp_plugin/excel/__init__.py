"""The Excel faces: worksheet functions and one-click jobs. Only udfs.py imports xlwings."""
