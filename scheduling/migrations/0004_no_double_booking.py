"""A provider can never hold two live appointments at once, enforced by PostgreSQL itself.

The exclusion constraint makes the losing side of a booking race fail at INSERT
(IntegrityError, SQLSTATE 23P01), which scheduling.services turns into SlotTaken.
SQLite cannot parse EXCLUDE (Django's ExclusionConstraint in Meta breaks migrate there),
so this step only runs on PostgreSQL; on SQLite bookings are serialised in services.py.
"""

from django.db import migrations

CONSTRAINT = "appointment_no_double_booking"


def add_constraint(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    schema_editor.execute(
        f"ALTER TABLE scheduling_appointment ADD CONSTRAINT {CONSTRAINT} "
        "EXCLUDE USING gist (provider_id WITH =, tstzrange(start, \"end\", '[)') WITH &&) "
        "WHERE (status <> 'cancelled')"
    )


def drop_constraint(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"ALTER TABLE scheduling_appointment DROP CONSTRAINT IF EXISTS {CONSTRAINT}")


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0003_booking_fields")]
    operations = [migrations.RunPython(add_constraint, drop_constraint)]
