"""Checks: plain data -> typed Spec (pydantic), the wiring graph, the JSON Schema."""
