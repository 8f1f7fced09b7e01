"""Check stage: the four qualities as findings and scores, and asset checks over every stage."""
