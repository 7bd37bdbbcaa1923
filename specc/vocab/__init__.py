"""The spec's vocabulary: layer kinds and their arguments (the generated catalog),
regularizer/initializer/constraint forms, the penalty (expr) and
value (arithmetic) expression languages, plugins.
Imports no other stage."""
