"""Signals other apps listen to, so communications never imports them; and the receiver that deletes a call
recording's file with its row.

`conversation_ended` is sent (after the transaction commits) when a conversation
closes on any channel; analytics enqueues its scoring from it. `conversations_redacted`
is sent inside the transaction that erased conversations' words (retention, a forgotten
customer); analytics erases its scorer's notes on them. `customer_forgotten` is sent after
the commit that erased a customer; scheduling rewrites their calendar events without them.
"""

import logging
from functools import partial
from pathlib import Path

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import Signal, receiver

log = logging.getLogger(__name__)

conversation_ended = Signal()  # sender=Conversation, conversation_id=UUID
conversations_redacted = Signal()  # sender=Conversation, conversation_ids=[UUID, ...]
customer_forgotten = Signal()  # sender=Customer, customer_id=int


@receiver(post_delete, sender="communications.CallRecording", dispatch_uid="communications.delete_recording_files")
def delete_recording_files(sender, instance, using, **kwargs):
    """A recording deleted with its conversation (in code, a queryset, Django admin) takes its file along.

    After the commit, so a deletion rolled back keeps the file its row still names. A live call's spool file
    is its recorder's: at the call's end it finds no row and keeps nothing. A failed recording's leftover
    spool file goes too.
    """
    name = instance.file.name
    spool = instance.spool_path if instance.state != "recording" else ""
    if name or spool:
        transaction.on_commit(partial(_delete_files, recording_id=instance.pk, name=name, spool=spool), using=using)


def _delete_files(*, recording_id, name, spool):
    # Through the storage as configured now (the FileField's own storage was fixed at import).
    from communications.models import recordings_storage

    # The row is gone and the deletion committed: failing here would only hide that. No row names the file
    # any more, so the log says which one is left behind.
    if name:
        try:
            recordings_storage().delete(name)
        except Exception:
            log.exception("Could not delete %s, the file of deleted recording %s: delete it by hand", name,
                          recording_id)
    if spool:
        try:
            Path(spool).unlink(missing_ok=True)
        except OSError:
            log.exception("Could not delete %s, the spool file of deleted recording %s", spool, recording_id)
