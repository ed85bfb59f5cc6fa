"""Who may open a call: only a call page's own signed token, from its address, at a sane rate, from our origin."""

import json
import re
import time

import pytest
from channels.testing import WebsocketCommunicator
from django.core import signing

from communications.models import Conversation
from receptionist.call_tokens import issue_call_token

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = [(b"origin", b"http://127.0.0.1")]


async def dial(*, token, ip="192.0.2.10", origin=ORIGIN, session_id="admission-call-01"):
    from ava.asgi import application

    query = f"?token={token}" if token is not None else ""
    communicator = WebsocketCommunicator(application, f"/ws/voice/{session_id}{query}", headers=origin)
    communicator.scope["client"] = (ip, 50000)
    connected, _ = await communicator.connect(timeout=5)
    return communicator, connected


async def refusal(communicator):
    """The error, the call.ended reason and the close code a refused page receives."""
    error = json.loads((await communicator.receive_output(timeout=5))["text"])
    ended = json.loads((await communicator.receive_output(timeout=5))["text"])
    closed = await communicator.receive_output(timeout=5)
    return error["code"], ended["reason"], closed["code"]


async def test_a_call_without_the_page_s_token_is_refused_and_nothing_is_saved(spa):
    communicator, connected = await dial(token=None)
    assert connected
    assert await refusal(communicator) == ("page_expired", "page_expired", 4403)
    assert await Conversation.objects.acount() == 0


async def test_a_token_issued_to_another_address_is_refused(spa):
    communicator, _ = await dial(token=issue_call_token(ip="198.51.100.99"))
    assert await refusal(communicator) == ("page_expired", "page_expired", 4403)


async def test_a_forged_token_is_refused(spa):
    forged = signing.dumps({"ip": "192.0.2.10"}, key="not-our-secret-key-at-all", salt="ava.receptionist.call-token")
    communicator, _ = await dial(token=forged)
    assert await refusal(communicator) == ("page_expired", "page_expired", 4403)


async def test_an_expired_token_is_refused(spa, settings):
    settings.VOICE_CALL_TOKEN_MAX_AGE_SECONDS = 30
    # The same signed value, stamped 31 seconds ago (payload:timestamp:signature).
    salt = "ava.receptionist.call-token"
    payload = issue_call_token(ip="192.0.2.10").split(":")[0]
    stamped = f"{payload}:{signing.b62_encode(int(time.time()) - 31)}"
    expired = f"{stamped}:{signing.TimestampSigner(salt=salt).signature(stamped)}"
    communicator, _ = await dial(token=expired)
    assert await refusal(communicator) == ("page_expired", "page_expired", 4403)


async def test_the_page_s_own_token_opens_a_call(spa):
    communicator, _ = await dial(token=issue_call_token(ip="192.0.2.10"))
    session = json.loads((await communicator.receive_output(timeout=5))["text"])
    assert session["type"] == "session"
    assert await Conversation.objects.filter(pk=session["conversation_id"]).aexists()
    await communicator.disconnect()


async def test_an_address_may_start_only_so_many_calls_a_minute(spa, settings):
    settings.VOICE_NEW_CALLS_PER_MINUTE_PER_IP = 2
    token = issue_call_token(ip="192.0.2.20")
    for n in range(2):
        communicator, _ = await dial(token=token, ip="192.0.2.20", session_id=f"minute-call-0{n}")
        assert json.loads((await communicator.receive_output(timeout=5))["text"])["type"] == "session"
        await communicator.disconnect()
    communicator, _ = await dial(token=token, ip="192.0.2.20", session_id="minute-call-03")
    assert await refusal(communicator) == ("too_many_calls", "too_many_calls", 4429)
    # Another address is not affected.
    other, _ = await dial(token=issue_call_token(ip="192.0.2.21"), ip="192.0.2.21", session_id="minute-call-04")
    assert json.loads((await other.receive_output(timeout=5))["text"])["type"] == "session"
    await other.disconnect()


async def test_a_socket_from_another_site_is_turned_away(spa):
    communicator, connected = await dial(token=issue_call_token(ip="192.0.2.10"),
                                         origin=[(b"origin", b"https://evil.example")])
    assert not connected
    assert await Conversation.objects.acount() == 0


def test_the_call_page_carries_a_token_for_its_visitor_and_can_renew_it(client):
    page = client.get("/call/", REMOTE_ADDR="192.0.2.30")
    assert page["Cache-Control"].startswith("max-age=0")
    html = page.content.decode()
    config = json.loads(re.search(r'<script id="call-config" type="application/json">(.*?)</script>', html).group(1))
    assert signing.loads(config["token"], salt="ava.receptionist.call-token") == {"ip": "192.0.2.30"}
    assert config["token_max_age_ms"] == 900_000
    fresh = client.get(config["token_url"], REMOTE_ADDR="192.0.2.30").json()["token"]
    assert signing.loads(fresh, salt="ava.receptionist.call-token") == {"ip": "192.0.2.30"}
