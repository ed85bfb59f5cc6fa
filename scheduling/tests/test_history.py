"""Past appointments written in bulk keep when they were booked; a move leaves the record the services keep."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from communications.tests.factories import CustomerFactory
from scheduling.history import reschedule_entry, write_past_appointments
from scheduling.models import Appointment
from scheduling.tests.factories import AppointmentFactory, ProviderFactory, ServiceFactory

NY = ZoneInfo("America/New_York")
AT = datetime(2026, 3, 2, 10, 0, tzinfo=NY)


@pytest.mark.django_db
def test_past_appointments_keep_when_they_were_booked():
    booked_at = AT - timedelta(days=12)
    drafts = [AppointmentFactory.build(customer=CustomerFactory(), service=ServiceFactory(), provider=ProviderFactory(),
                                       start=AT + timedelta(hours=n), created_at=booked_at, updated_at=booked_at)
              for n in range(2)]
    for draft in drafts:
        draft.end = Appointment.end_for(draft.service, draft.start)

    write_past_appointments(drafts)

    saved = Appointment.objects.order_by("start")
    assert [(a.created_at, a.updated_at) for a in saved] == [(booked_at, booked_at)] * 2


def test_a_move_is_recorded_in_the_clinics_local_time():
    dana, omar = ProviderFactory.build(pk=1), ProviderFactory.build(pk=2)

    entry = reschedule_entry(from_start=AT, to_start=AT + timedelta(days=1), from_provider=dana, to_provider=omar,
                             by="ai", at=AT - timedelta(hours=3), tz=NY)

    assert entry == {"from": "2026-03-02T10:00:00-05:00", "to": "2026-03-03T10:00:00-05:00", "from_provider": 1,
                     "to_provider": 2, "by": "ai", "at": "2026-03-02T07:00:00-05:00"}
