"""Writing: spec data -> TOML/JSON text (dump, fmt, factor), written atomically."""
