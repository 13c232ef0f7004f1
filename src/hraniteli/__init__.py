"""Hraniteli: one service that runs an online psychology practice end to end."""

__version__ = "0.1.0"
