"""Recall materials similar to a query by embedding their descriptions, then rank the
recalled candidates with a multi-gate mixture-of-experts model (Qu et al., npj Comput
Mater 2024). Heavy libraries (robocrys, torch, transformers) are imported where used so
that each step only pays for what it needs."""

__version__ = "0.1.0"
