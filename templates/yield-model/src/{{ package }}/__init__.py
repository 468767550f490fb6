"""Uncertainty-aware multimodal reaction-yield prediction."""

__version__ = "0.1.0"
