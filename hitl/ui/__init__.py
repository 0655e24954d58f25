"""Streamlit rendering helpers: the only part of `hitl` that imports streamlit.

Each module here adapts a pure `hitl` model to widgets (e.g. `hitl.ui.schema_form` draws a
form from a JSON Schema via `hitl.forms`). Pages import from these modules directly.
"""

from __future__ import annotations

__all__: list[str] = []
