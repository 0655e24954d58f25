"""The storage layer: every SQL statement of the desk, its schema and the two dialects it speaks."""
