"""The voice call's writes, each a small synchronous function the relay's writer task runs off the relay loop.

They wrap communications' services (the only place conversations are written)
with what a call needs at its start, during it, and at its end.
"""

from communications import calls
from communications import services as communications
from communications import usage as usage_records
from communications.models import Channel, CommunicationEvent, Conversation, Message
from communications.processes import this_process
from receptionist.phone.caller import TAKE_A_MESSAGE, caller_instructions, phone_greeting, take_a_message_line
from receptionist.prompt import RECORDING_NOTICE, build_instructions, greeting_line
from scheduling.models import ClinicSettings


def open_voice_call(*, session_id="", engine, user_agent="", conversation_id=None, call_sid="", stream_sid="",
                    resume=False):
    """Start the voice Conversation and gather what the session needs. Returns a plain dict.

    A phone call's conversation already exists (the voice webhook opened it, `conversation_id`): the
    stream adopts it, and a known caller is greeted by name with their appointments in the instructions.
    `resume`: Ava takes the call back after nobody at the front desk answered; the same conversation goes
    on (`so_far`: its lines, to seed the session), and instead of a greeting she offers to take a message.
    """
    clinic = ClinicSettings.load()
    held = {"engine": engine, "held_by": this_process()}  # lets the closer end it if this process dies
    if conversation_id is None:
        conversation = communications.start_conversation(
            channel=Channel.VOICE, metadata={"session_id": session_id, "user_agent": user_agent[:300], **held})
        greeting, instructions = greeting_line(clinic), build_instructions(channel="voice")
    else:
        attach = calls.take_back_call if resume else calls.attach_stream
        conversation = attach(conversation_id=conversation_id, call_sid=call_sid, stream_sid=stream_sid, metadata=held)
        greeting = phone_greeting(greeting_line(clinic), conversation.customer)
        instructions = phone_instructions(conversation, clinic)
    info = {
        "conversation_id": conversation.pk, "clinic_name": clinic.name, "assistant_name": clinic.assistant_name,
        "clinic_phone": clinic.phone, "greeting": greeting, "instructions": instructions,
    }
    if resume:
        info.update(greeting=take_a_message_line(conversation.customer), so_far=conversation_so_far(conversation.pk),
                    greeting_why="Nobody at the front desk answered the transfer; the caller is back with you.")
    return info


def phone_instructions(conversation, clinic):
    """A phone call's instructions: the caller (caller ID), and the message to take once a transfer failed."""
    detail = conversation.voice
    instructions = build_instructions(channel="voice") + caller_instructions(
        customer=conversation.customer, from_number=detail.from_number, conversation_id=conversation.pk, tz=clinic.tz)
    if (conversation.metadata or {}).get("taken_back"):
        instructions += TAKE_A_MESSAGE
    return instructions


def conversation_so_far(conversation_id):
    """[(position, "caller" | "assistant", words)] of a call's saved lines, in order (to seed a new session)."""
    speakers = {Message.Author.CUSTOMER: "caller", Message.Author.ASSISTANT: "assistant"}
    lines = (Message.objects.filter(conversation_id=conversation_id, author__in=speakers).exclude(content="")
             .order_by("position", "sent_at", "id").values_list("position", "author", "content"))
    return [(position, speakers[author], words) for position, author, words in lines]


def session_instructions(conversation_id=None):
    """Fresh instructions for a new upstream session (after a reconnect): the date and time move on, and a
    phone call keeps what it knows of its caller."""
    if conversation_id is not None:
        conversation = (Conversation.objects.select_related("voice", "customer")
                        .filter(pk=conversation_id, voice__source="phone").first())
        if conversation is not None:
            return phone_instructions(conversation, ClinicSettings.load())
    return build_instructions(channel="voice")


def record_consent(*, conversation_id, accepted):
    if accepted and CommunicationEvent.objects.filter(conversation_id=conversation_id, type="consent").exists():
        return  # a phone call taken back after a transfer: the caller consented once, at the notice
    communications.record_event(conversation_id=conversation_id, type="consent",
                                data={"accepted": bool(accepted), "notice": RECORDING_NOTICE, "channel": "voice"})


def save_utterance(*, conversation_id, speaker, content, position, item_id, sent_at, metadata=None):
    author = Message.Author.CUSTOMER if speaker == "caller" else Message.Author.ASSISTANT
    communications.add_message(conversation_id=conversation_id, author=author, content=content, position=position,
                               upstream_item_id=item_id, sent_at=sent_at, metadata=metadata)


def revise_utterance(*, conversation_id, item_id, content, metadata=None):
    communications.revise_message(conversation_id=conversation_id, upstream_item_id=item_id, content=content,
                                  metadata=metadata)


def record_interruption(*, conversation_id, item_id, played_ms, audio_end_ms):
    communications.record_event(conversation_id=conversation_id, type="interruption",
                                data={"item_id": item_id, "played_ms": played_ms, "audio_end_ms": audio_end_ms})
    communications.count_interruption(conversation_id=conversation_id)


def record_event(*, conversation_id, type, data):
    communications.record_event(conversation_id=conversation_id, type=type, data=data)


def record_usage(*, conversation_id, kind, model, usage, source_id=""):
    """What one response or one transcription of the call used, priced (communications.usage)."""
    usage_records.record_usage(conversation_id=conversation_id, kind=kind, model=model, usage=usage,
                               source_id=source_id)


def finish_voice_call(*, conversation_id, end_reason, failed=False, interruption_count=None, stats=None):
    """End the call once: ended_at, duration, end reason, interruptions; scoring follows on commit. A call put
    through to the front desk stays open until the desk answers or Twilio reports its end (communications.calls)."""
    if stats:
        communications.record_event(conversation_id=conversation_id, type="call_stats", data=stats)
    if end_reason == "transferred" and not failed:
        # Put through to the front desk: the call goes on without Ava, and comes back to her if nobody answers.
        calls.hand_over_call(conversation_id=conversation_id)
        return
    communications.end_conversation(
        conversation_id=conversation_id,
        status=Conversation.Status.FAILED if failed else Conversation.Status.COMPLETED,
        outcome="failed" if end_reason == "upstream_unavailable" else "",
        end_reason=end_reason, interruption_count=interruption_count,
    )
