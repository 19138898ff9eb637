"""Kairos clinical core: instruments, alerts, outcome rules, protocols and safety rules.

Pure Python. This package imports neither Django nor ``kairos.pharmacology`` (enforced by
import-linter contracts in ``pyproject.toml``). Every clinical number lives in a typed rule set
(:mod:`kairos.clinical.config`) with its source and confirmation status.
"""
