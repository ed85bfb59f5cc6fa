"""Moved to conventions.api. Kept only while APIs being edited elsewhere still import it from here;
delete it when the last one imports conventions.api (conventions/tests/test_layers.py lists them)."""

from conventions.api import Pagination, error_response  # noqa: F401
