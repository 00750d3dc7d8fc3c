"""Computations over the lines frame, one module each, run in an explicit order by the pipeline."""
