"""Signals other apps listen to, so communications never imports them.

`conversation_ended` is sent (after the transaction commits) when a conversation
closes on any channel; analytics enqueues its scoring from it. `conversations_redacted`
is sent inside the transaction that erased conversations' words (retention, a forgotten
customer); analytics erases its scorer's notes on them. `customer_forgotten` is sent after
the commit that erased a customer; scheduling rewrites their calendar events without them.
"""

from django.dispatch import Signal

conversation_ended = Signal()  # sender=Conversation, conversation_id=UUID
conversations_redacted = Signal()  # sender=Conversation, conversation_ids=[UUID, ...]
customer_forgotten = Signal()  # sender=Customer, customer_id=int
