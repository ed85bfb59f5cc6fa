"""Signals other apps listen to, so communications never imports them.

`conversation_ended` is sent (after the transaction commits) when a conversation
closes on any channel; analytics enqueues its scoring from it.
"""

from django.dispatch import Signal

conversation_ended = Signal()  # sender=Conversation, conversation_id=UUID
