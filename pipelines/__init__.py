"""Dagster wiring and the command line of dancu (the libraries beside it are pure)."""

import warnings

# pyspark 4.3 warns on import while pandas >= 3 is installed (Great Expectations imports it when present); dancu
# hands Spark Arrow and Polars frames only, so the warning says nothing to the people reading the logs.
warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
