"""Twenty callers want the same slot at the same moment: exactly one gets it.

Each thread has its own database connection (Django opens one per thread), and all of
them start together at a barrier. On PostgreSQL the exclusion constraint decides the
race; on SQLite bookings are serialised. Either way the losers hear "that time was just
taken", never a server error.
"""

import threading

import pytest
from django.db import IntegrityError, connection, connections, transaction

from communications.tests.factories import CustomerFactory
from scheduling.exceptions import SlotTaken
from scheduling.models import Appointment
from scheduling.services import book_appointment
from scheduling.tests.conftest import at
from scheduling.tests.factories import ProviderFactory, ServiceFactory, open_clinic

NOW = at(2026, 3, 1, 8)
SLOT = at(2026, 3, 2, 10)
CALLERS = 20

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL: the exclusion constraint only exists there (SQLite cannot parse EXCLUDE)",
)


def race(service, provider, customers):
    barrier = threading.Barrier(len(customers))
    outcomes = []
    lock = threading.Lock()

    def caller(customer):
        try:
            barrier.wait(timeout=30)
            appointment = book_appointment(service=service, provider=provider, start=SLOT, customer=customer,
                                           booked_by="ai", now=NOW)
            outcome = ("booked", appointment.pk)
        except SlotTaken as error:
            outcome = ("taken", len(error.alternatives))
        except Exception as error:  # anything else is a bug the test must show
            outcome = ("error", repr(error))
        finally:
            connections.close_all()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=caller, args=(customer,)) for customer in customers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


@pytest.fixture
def setup_race(transactional_db):
    open_clinic(min_booking_notice_minutes=120, booking_horizon_days=90)
    service = ServiceFactory(name="Botox", slug="botox", duration_minutes=30, buffer_minutes=15)
    provider = ProviderFactory(name="Dana Lee", services=[service])
    customers = [CustomerFactory(is_new_client=False) for _ in range(CALLERS)]
    return service, provider, customers


def test_twenty_concurrent_bookings_of_one_slot_give_one_appointment(setup_race):
    service, provider, customers = setup_race

    outcomes = race(service, provider, customers)

    assert [o for o in outcomes if o[0] == "error"] == []
    assert sum(1 for o in outcomes if o[0] == "booked") == 1
    taken = [o for o in outcomes if o[0] == "taken"]
    assert len(taken) == CALLERS - 1
    assert all(count > 0 for _, count in taken)  # every loser was offered other times
    assert Appointment.objects.filter(provider=provider).count() == 1


@on_postgresql
def test_the_database_itself_refuses_an_overlapping_appointment(setup_race):
    service, provider, customers = setup_race
    Appointment.objects.create(customer=customers[0], service=service, provider=provider, start=SLOT,
                               end=Appointment.end_for(service, SLOT))

    with pytest.raises(IntegrityError), transaction.atomic():
        Appointment.objects.create(customer=customers[1], service=service, provider=provider, start=at(2026, 3, 2, 10, 30),
                                   end=at(2026, 3, 2, 11, 15))
    # Touching ends ('[)' ranges) and cancelled rows do not conflict.
    Appointment.objects.create(customer=customers[1], service=service, provider=provider, start=at(2026, 3, 2, 10, 45),
                               end=at(2026, 3, 2, 11, 30))
    Appointment.objects.create(customer=customers[2], service=service, provider=provider, start=SLOT,
                               end=Appointment.end_for(service, SLOT), status=Appointment.Status.CANCELLED)
    assert Appointment.objects.count() == 3
