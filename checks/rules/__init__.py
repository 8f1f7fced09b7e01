"""The quality rules, one module per quality: correct (đúng), complete (đủ), clean (sạch), live (sống)."""
