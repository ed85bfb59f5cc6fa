"""The call page's consumer skips Channels' per-message database cleanup for audio frames.

VoiceConsumer.dispatch sends `websocket.receive` straight to its handler and everything else to
Channels' own `AsyncConsumer.dispatch`. That is right only while Channels' dispatch does nothing
for a message but find its handler and close stale database connections. An upgrade that changes
it must fail here, not quietly change the relay.
"""

import hashlib
import inspect

from channels.consumer import AsyncConsumer, get_handler_name

from receptionist.consumers import VoiceConsumer

# sha256 of inspect.getsource(AsyncConsumer.dispatch) in channels 4.3.2: find the handler by
# get_handler_name, `await aclose_old_connections()`, `await handler(message)`, else ValueError.
CHANNELS_DISPATCH_SHA256 = "39f34e7d4fb0f6552de4ade665b943fe78137379702af6b58c79a14c49a75520"


def test_channels_dispatch_is_still_the_one_the_voice_consumer_skips_for_audio():
    source = inspect.getsource(AsyncConsumer.dispatch)
    assert hashlib.sha256(source.encode()).hexdigest() == CHANNELS_DISPATCH_SHA256, (
        "channels' AsyncConsumer.dispatch changed:\n" + source + "\nVoiceConsumer.dispatch (receptionist/consumers.py) "
        "sends websocket.receive straight to websocket_receive, skipping it. Re-check that what the new dispatch "
        "does per message is still only the database cleanup the relay does not need (nothing the frames must go "
        "through: middleware, tracing, error handling), then record the new hash here.")


def test_an_audio_frame_goes_to_the_handler_channels_would_pick():
    assert get_handler_name({"type": "websocket.receive"}) == "websocket_receive"
    assert callable(getattr(VoiceConsumer, "websocket_receive", None))
