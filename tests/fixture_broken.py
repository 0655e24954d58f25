"""A graph module that fails to import, as a user's broken module would."""

import module_that_does_not_exist  # noqa: F401

graph = None
