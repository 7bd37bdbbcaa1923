"""The command line (typer): one thin layer over the stages."""
