"""Exporting: a Keras model or config, read as data -> plain spec data."""
