"""Encoders, the fused yield model and its losses."""
