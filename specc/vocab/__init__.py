"""The spec's vocabulary: layer kinds and their arguments (the generated catalog),
regularizer/initializer/constraint forms, the penalty expression language, plugins.
Imports no other stage."""
