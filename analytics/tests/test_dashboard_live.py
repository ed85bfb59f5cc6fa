"""Live now and the live transcript: staff sockets hear conversations start, speak and end, pushed, not polled."""

import asyncio
import contextlib
import json
import socket

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connections, transaction

from communications.models import Conversation
from communications.services import (
    add_message,
    end_conversation,
    identify_customer,
    record_event,
    revise_message,
    start_conversation,
)
from communications.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db(transaction=True)
ORIGIN = (b"origin", b"http://127.0.0.1")


def db(function, *args, **kwargs):
    return database_sync_to_async(function)(*args, **kwargs)


def session_cookie(client, user):
    client.force_login(user)
    return (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())


@pytest.fixture
def staff_cookie(client, django_user_model):
    user = django_user_model.objects.create_user("frontdesk", password="a-long-test-password", is_staff=True)
    return session_cookie(client, user)


@pytest.fixture
async def sockets():
    """`communicator, (connected, code) = await sockets(path, *headers)` against the real application."""
    from ava.asgi import application

    opened = []

    async def open_socket(path, *headers):
        communicator = WebsocketCommunicator(application, path, headers=[ORIGIN, (b"host", b"127.0.0.1"), *headers])
        opened.append(communicator)
        return communicator, await communicator.connect(timeout=5)

    yield open_socket
    for communicator in opened:
        # A receive that timed out has already cancelled its application; that is the test's failure, not this.
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await communicator.disconnect()
    # The consumers' reads ran in asgiref's sync thread; close its connection so PostgreSQL can drop the test database.
    await sync_to_async(connections.close_all)()


async def receive(communicator):
    return json.loads(await communicator.receive_from(timeout=5))


async def open_dashboard(sockets, cookie):
    communicator, (connected, _) = await sockets("/ws/dashboard/", cookie)
    assert connected
    snapshot = await receive(communicator)
    assert snapshot["op"] == "snapshot"
    return communicator, snapshot


# --- who may listen --------------------------------------------------------------------------------

async def test_an_anonymous_socket_is_refused(sockets):
    communicator, (connected, code) = await sockets("/ws/dashboard/")
    assert not connected
    assert code == 4403


async def test_a_signed_in_customer_account_that_is_not_staff_is_refused(sockets, client, django_user_model):
    user = await db(django_user_model.objects.create_user, "caller", password="a-long-test-password")
    cookie = await db(session_cookie, client, user)
    communicator, (connected, _) = await sockets("/ws/dashboard/", cookie)
    assert not connected


async def test_a_socket_from_another_site_is_refused(staff_cookie):
    from ava.asgi import application

    communicator = WebsocketCommunicator(application, "/ws/dashboard/",
                                         headers=[(b"origin", b"https://evil.example"), staff_cookie])
    connected, _ = await communicator.connect(timeout=5)
    assert not connected


# --- Live now --------------------------------------------------------------------------------------

async def test_staff_get_the_conversations_already_in_progress_when_they_connect(sockets, staff_cookie):
    dana = await db(CustomerFactory, name="Dana Reyes")
    conversation = await db(start_conversation, channel="voice", customer=dana)
    await db(add_message, conversation_id=conversation.pk, author="customer", content="Do you have Friday openings?")
    await db(start_conversation, channel="sms")
    await db(end_conversation, conversation_id=(await db(start_conversation, channel="email")).pk)

    communicator, snapshot = await open_dashboard(sockets, staff_cookie)
    assert snapshot["html"].count("data-live-id=") == 2
    assert "Dana Reyes" in snapshot["html"]
    assert "Do you have Friday openings?" in snapshot["html"]
    assert await communicator.receive_nothing(timeout=0.2)


async def test_a_conversation_that_starts_speaks_and_ends_is_pushed_to_live_now(sockets, staff_cookie):
    communicator, snapshot = await open_dashboard(sockets, staff_cookie)
    assert "data-live-id" not in snapshot["html"]

    dana = await db(CustomerFactory, name="Dana Reyes")
    conversation = await db(start_conversation, channel="voice", customer=dana)
    started = await receive(communicator)
    assert started["op"] == "upsert" and started["id"] == str(conversation.pk)
    assert "Dana Reyes" in started["html"] and "Web call" in started["html"]  # the call page's
    assert f'data-since="{conversation.started_at.isoformat()}"' in started["html"]

    await db(add_message, conversation_id=conversation.pk, author="customer", content="I'd like a HydraFacial <b>soon</b>")
    said = await receive(communicator)
    assert said == {"op": "utterance", "id": str(conversation.pk), "html": said["html"]}
    assert "HydraFacial &lt;b&gt;soon&lt;/b&gt;" in said["html"]  # customer words are escaped

    await db(end_conversation, conversation_id=conversation.pk)
    assert await receive(communicator) == {"op": "remove", "id": str(conversation.pk)}


async def test_a_caller_who_gives_their_name_is_named_in_live_now(sockets, staff_cookie):
    conversation = await db(start_conversation, channel="voice")
    communicator, snapshot = await open_dashboard(sockets, staff_cookie)
    assert "Caller not identified yet" in snapshot["html"]
    jane = await db(CustomerFactory, name="Jane Doe")
    await db(identify_customer, conversation_id=conversation.pk, customer=jane)
    named = await receive(communicator)
    assert named["op"] == "customer" and named["id"] == str(conversation.pk)
    assert "Jane Doe" in named["html"] and f"/dashboard/customers/{jane.pk}/" in named["html"]


async def test_nothing_is_pushed_for_a_conversation_whose_transaction_rolled_back(sockets, staff_cookie):
    communicator, _ = await open_dashboard(sockets, staff_cookie)

    def start_then_fail():
        try:
            with transaction.atomic():
                start_conversation(channel="voice")
                raise RuntimeError("the caller's socket broke")
        except RuntimeError:
            pass

    await db(start_then_fail)
    assert await communicator.receive_nothing(timeout=0.3)
    assert await db(Conversation.objects.count) == 0


def test_a_channel_layer_that_is_down_never_breaks_the_conversation(settings, caplog):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer",
                                           "CONFIG": {"hosts": [f"redis://127.0.0.1:{closed_port}/0"]}}}
    conversation = start_conversation(channel="voice")
    add_message(conversation_id=conversation.pk, author="customer", content="Hello?")
    assert end_conversation(conversation_id=conversation.pk).status == "completed"
    assert Conversation.objects.get().messages.count() == 1
    assert "Live update started not sent" in caplog.text


# --- the live transcript ---------------------------------------------------------------------------

async def test_the_transcript_of_a_call_in_progress_grows_as_words_are_said(sockets, staff_cookie):
    conversation = await db(start_conversation, channel="voice")
    await db(add_message, conversation_id=conversation.pk, author="assistant", content="Thank you for calling.", position=0)
    communicator, (connected, _) = await sockets(f"/ws/dashboard/conversations/{conversation.pk}/", staff_cookie)
    assert connected
    snapshot = await receive(communicator)
    assert snapshot["op"] == "transcript" and "Thank you for calling." in snapshot["html"]

    message = await db(add_message, conversation_id=conversation.pk, author="customer", content="Botox on Friday?",
                       position=1, upstream_item_id="item_7")
    said = await receive(communicator)
    assert said["op"] == "message" and said["key"] == f"m{message.pk}" and said["position"] == 1
    assert "Botox on Friday?" in said["html"] and "Customer" in said["html"]

    await db(record_event, conversation_id=conversation.pk, type="tool_call",
             data={"name": "check_availability", "arguments": {"secret": "not shown"}})
    tool = await receive(communicator)
    assert tool["op"] == "event" and "check_availability" in tool["html"] and "secret" not in tool["html"]

    await db(revise_message, conversation_id=conversation.pk, upstream_item_id="item_7", content="Botox on")
    revised = await receive(communicator)
    assert revised["op"] == "replace" and revised["key"] == f"m{message.pk}" and "Botox on Friday" not in revised["html"]

    await db(end_conversation, conversation_id=conversation.pk)
    ended = await receive(communicator)
    assert ended["op"] == "ended" and "has ended" in ended["html"]


async def test_another_conversation_s_words_do_not_reach_a_transcript(sockets, staff_cookie):
    watched = await db(start_conversation, channel="voice")
    other = await db(start_conversation, channel="voice")
    communicator, _ = await sockets(f"/ws/dashboard/conversations/{watched.pk}/", staff_cookie)
    await receive(communicator)  # the snapshot
    await db(add_message, conversation_id=other.pk, author="customer", content="Someone else")
    assert await communicator.receive_nothing(timeout=0.3)


async def test_the_transcript_socket_is_staff_only_and_needs_a_real_conversation(sockets, staff_cookie):
    conversation = await db(start_conversation, channel="voice")
    _, (connected, _) = await sockets(f"/ws/dashboard/conversations/{conversation.pk}/")
    assert not connected
    _, (connected, code) = await sockets("/ws/dashboard/conversations/00000000-0000-0000-0000-000000000000/", staff_cookie)
    assert not connected and code == 4404


async def test_a_transcript_opened_after_the_call_ended_says_so_at_once(sockets, staff_cookie):
    conversation = await db(start_conversation, channel="voice")
    await db(end_conversation, conversation_id=conversation.pk)
    communicator, _ = await sockets(f"/ws/dashboard/conversations/{conversation.pk}/", staff_cookie)
    assert (await receive(communicator))["op"] == "transcript"
    assert (await receive(communicator))["op"] == "ended"
