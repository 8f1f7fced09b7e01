"""Register stage: the clean register (one golden record per person), the night's change set, the checks of the
register and its before/after scores."""
