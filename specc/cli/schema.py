"""specc schema: print the JSON Schema of the spec format."""

import sys


def register(app) -> None:
    @app.command()
    def schema() -> None:
        """Print the JSON Schema of the spec format."""
        from specc.checking.schema_file import SCHEMA_PATH

        sys.stdout.write(SCHEMA_PATH.read_text())
