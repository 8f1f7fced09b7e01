"""Match stage: candidate pairs, scored pairs with explanations, and person clusters."""
