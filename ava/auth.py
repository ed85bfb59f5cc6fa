"""Moved to conventions.access. Kept only while views being edited elsewhere still import it from here;
delete it when the last one imports conventions.access (conventions/tests/test_layers.py lists them)."""

from conventions.access import is_owner, is_staff, owner_required, staff_required  # noqa: F401
