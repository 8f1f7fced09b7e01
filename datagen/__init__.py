"""Deterministic demo-province generator: a realistic population base, nightly extracts with injected defects,
and the ground truth that says which records are the same person and which defects were injected."""

from datagen.generator import DEFAULT_NIGHT, DEFAULT_PROVINCE, GeneratedProvince, generate_province

__all__ = ["DEFAULT_NIGHT", "DEFAULT_PROVINCE", "GeneratedProvince", "generate_province"]
