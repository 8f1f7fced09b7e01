"""Pure library: Vietnamese normalization and record matching. No Dagster here."""
