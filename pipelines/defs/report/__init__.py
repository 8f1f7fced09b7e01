"""Report stage: the quality and match reports, and the correction tasks for ward police."""
