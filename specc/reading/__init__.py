"""Reading sources: text -> document (keys with their positions) -> plain data,
--set overrides, bounded reading of .keras archives."""
