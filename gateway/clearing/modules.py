"""The modules the gateway composes into its clearing core, in reaction order."""
from __future__ import annotations


def module_factories() -> list:
    return []
