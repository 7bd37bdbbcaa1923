"""Expansion of constants, defaults and blocks: plain data -> plain data."""
