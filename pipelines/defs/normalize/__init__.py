"""The normalize stage."""
