"""The messaging console's socket: the thread and the outbox are pushed as Ava answers, never polled."""

import pytest

from analytics.tests.test_dashboard_live import ORIGIN, db, receive, sockets, staff_cookie  # noqa: F401
from communications.messaging import sms
from communications.models import Conversation, OutboundMessage
from communications.tests.messaging_fixtures import spa  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def text_from_the_console(body, number="+12125550142"):
    """A customer's text written in the console; Ava answers it at once (tasks run eagerly in tests)."""
    return sms.receive_sms(message_sid=None, from_number=number, body=body, console=True)


async def receive_until(communicator, wanted):
    """The ops that arrive up to and including the first one `wanted` accepts."""
    ops = []
    while not ops or not wanted(ops[-1]):
        ops.append(await receive(communicator))
    return ops


async def test_an_anonymous_socket_is_refused(sockets):  # noqa: F811
    communicator, (connected, code) = await sockets("/ws/dashboard/console/")
    assert not connected
    assert code == 4403


async def test_avas_reply_is_pushed_to_the_thread_and_the_outbox(sockets, staff_cookie, spa):  # noqa: F811
    first = await db(text_from_the_console, "Where do I park?")
    conversation_id = first.message.conversation_id
    newest = await db(lambda: OutboundMessage.objects.latest("id").pk)
    communicator, (connected, _) = await sockets(f"/ws/dashboard/console/?after={newest}&conversation={conversation_id}",
                                                 staff_cookie)
    assert connected
    snapshot = await receive(communicator)
    assert snapshot["op"] == "swap" and snapshot["target"] == "thread" and "Where do I park?" in snapshot["html"]
    assert await communicator.receive_nothing(timeout=0.2)  # nothing in the outbox since the page's newest row

    await db(text_from_the_console, "And what time do you open on Saturday?")

    ops = await receive_until(communicator, lambda op: op["op"] == "swap" and "Ava is writing" not in op["html"]
                              and "Saturday" in op["html"] and op["html"].count('class="bubble assistant"') == 2)
    reply = await db(lambda: OutboundMessage.objects.select_related("message").latest("id"))
    assert reply.message.conversation_id == conversation_id
    outbound = [op for op in ops if op["op"] == "outbound"] or await receive_until(
        communicator, lambda op: op["op"] == "outbound")
    row = [op for op in outbound if op["op"] == "outbound"][-1]
    assert row["id"] == str(reply.pk) and row["created"] is True and row["channel"] == "sms"
    assert f'data-outbound="{reply.pk}"' in row["html"] and "Kept in the outbox" in row["html"]


async def test_another_conversation_does_not_touch_the_thread_but_fills_the_outbox(sockets, staff_cookie, spa):  # noqa: F811
    mine = await db(text_from_the_console, "Hello", "+12125550142")
    communicator, (connected, _) = await sockets(
        f"/ws/dashboard/console/?after=999999&conversation={mine.message.conversation_id}", staff_cookie)
    assert connected
    await receive(communicator)  # the thread as it is

    await db(text_from_the_console, "Do you do lip filler?", "+12125550177")

    op = await receive(communicator)
    assert op["op"] == "outbound" and "(212) 555-0177" in op["html"]
    assert await communicator.receive_nothing(timeout=0.3)


async def test_a_socket_that_connects_late_gets_the_rows_stored_since_the_page(sockets, staff_cookie, spa):  # noqa: F811
    await db(text_from_the_console, "Hello")
    page_had = await db(lambda: OutboundMessage.objects.latest("id").pk)
    await db(text_from_the_console, "Are you open on Sunday?", "+12125550177")  # between the render and the socket
    stored_since = await db(lambda: list(OutboundMessage.objects.filter(pk__gt=page_had).values_list("pk", flat=True)))
    assert stored_since

    communicator, (connected, _) = await sockets(f"/ws/dashboard/console/?after={page_had}", staff_cookie)
    assert connected
    ops = [await receive(communicator) for _ in stored_since]
    assert [op["id"] for op in ops] == [str(pk) for pk in sorted(stored_since)]  # oldest first: each goes on top
    assert all(op["created"] for op in ops)
    assert await communicator.receive_nothing(timeout=0.2)


async def test_a_malformed_address_is_refused(sockets, staff_cookie):  # noqa: F811
    communicator, (connected, code) = await sockets("/ws/dashboard/console/?conversation=not-a-uuid", staff_cookie)
    assert not connected
    assert not await db(Conversation.objects.exists)
