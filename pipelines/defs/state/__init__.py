"""State stage: retention of the night's outputs and of the long-lived state's versions."""
