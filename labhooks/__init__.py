"""labhooks: repository hygiene and lab scaffolding."""

__version__ = "0.1.0"
