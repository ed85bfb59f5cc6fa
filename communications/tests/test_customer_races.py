"""Two messages from a new number at once (Twilio sends them in parallel): one customer, no server error.

PostgreSQL only: there a second INSERT of the same phone waits on the first's unique index
and fails when it commits, which is the race. (SQLite serialises writers, so it cannot occur.)
"""

import threading
import time

import pytest
from django.db import connection, connections, transaction

from communications.models import Customer, Message
from communications.services import find_or_create_customer

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="the race needs PostgreSQL's row locks")


def _wait_until_someone_waits_on_a_lock(timeout=10):
    deadline = time.monotonic() + timeout
    with connections["default"].cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
            if cursor.fetchone()[0]:
                return True
            time.sleep(0.02)
    return False


def _in_a_thread(work):
    outcome = {}

    def run():
        try:
            outcome["value"] = work()
        except Exception as error:  # the test shows anything unexpected
            outcome["error"] = error
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


@pytest.mark.parametrize("given", [{"phone": "+12125550142"}, {"email": "dana@example.com"}])
def test_a_customer_created_a_moment_ago_by_another_request_is_found_not_duplicated(transactional_db, given):
    first_in = threading.Event()
    release = threading.Event()

    def first():
        with transaction.atomic():
            customer = Customer.objects.create(name="Dana", **given)
            first_in.set()
            release.wait(timeout=10)
        return customer

    first_thread, first_outcome = _in_a_thread(first)
    assert first_in.wait(timeout=10)
    # The second looks, sees no one (the first has not committed), and inserts: it waits on the index.
    second_thread, second_outcome = _in_a_thread(lambda: find_or_create_customer(name="Dana W.", **given))
    assert _wait_until_someone_waits_on_a_lock()
    release.set()
    first_thread.join(timeout=20)
    second_thread.join(timeout=20)

    assert "error" not in second_outcome, second_outcome.get("error")
    assert second_outcome["value"].pk == first_outcome["value"].pk
    assert Customer.objects.count() == 1


def test_two_texts_from_a_new_number_at_once_make_one_customer_and_keep_both_texts(transactional_db):
    from communications.messaging.sms import receive_sms

    first_in = threading.Event()
    release = threading.Event()

    def first():
        with transaction.atomic():
            received = receive_sms(message_sid="SM1", from_number="+12125550142", body="Hi, are you open today?")
            first_in.set()
            release.wait(timeout=10)
        return received

    first_thread, first_outcome = _in_a_thread(first)
    assert first_in.wait(timeout=10)
    second_thread, second_outcome = _in_a_thread(
        lambda: receive_sms(message_sid="SM2", from_number="(212) 555-0142", body="And do you do HydraFacials?"))
    assert _wait_until_someone_waits_on_a_lock()
    release.set()
    first_thread.join(timeout=20)
    second_thread.join(timeout=20)

    assert "error" not in first_outcome, first_outcome.get("error")
    assert "error" not in second_outcome, second_outcome.get("error")
    assert Customer.objects.count() == 1
    texts = Message.objects.filter(conversation__customer__phone="+12125550142", author=Message.Author.CUSTOMER)
    assert sorted(texts.values_list("content", flat=True)) == ["And do you do HydraFacials?", "Hi, are you open today?"]


def test_two_staff_merging_the_same_pair_opposite_ways_get_one_customer_and_a_plain_message(
        transactional_db, staff_user):
    from django.test import Client

    from communications.services import merge_customers, start_conversation

    dana = Customer.objects.create(name="Dana", phone="+12125550142")
    dana_w = Customer.objects.create(name="Dana W.", email="dana@example.com")
    text = start_conversation(channel="sms", customer=dana)
    first_in = threading.Event()
    release = threading.Event()

    def first():  # "merge Dana into Dana W.", still committing
        with transaction.atomic():
            merge_customers(keep=Customer.objects.get(pk=dana_w.pk), duplicate=Customer.objects.get(pk=dana.pk))
            first_in.set()
            release.wait(timeout=10)

    def second():  # "merge Dana W. into Dana", from the other tab
        client = Client()
        client.force_login(staff_user)
        response = client.post(f"/dashboard/customers/{dana.pk}/merge/", {"duplicate": "dana@example.com"},
                               follow=False)
        return response.status_code, response["Location"], [str(m) for m in response.wsgi_request._messages]

    first_thread, first_outcome = _in_a_thread(first)
    assert first_in.wait(timeout=10)
    second_thread, second_outcome = _in_a_thread(second)
    assert _wait_until_someone_waits_on_a_lock()
    release.set()
    first_thread.join(timeout=20)
    second_thread.join(timeout=20)

    assert "error" not in second_outcome, second_outcome.get("error")
    status, location, notices = second_outcome["value"]
    assert (status, location) == (302, f"/dashboard/customers/{dana_w.pk}/")
    assert notices == ["One of these customers was just merged by someone else; nothing was changed."]
    assert list(Customer.objects.values_list("pk", "phone", "email")) == [
        (dana_w.pk, "+12125550142", "dana@example.com")]
    text.refresh_from_db()
    assert text.customer_id == dana_w.pk
