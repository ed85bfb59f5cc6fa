"""The demo conversations, one function per outcome, each written for voice, SMS and email.

Every function takes a Scene, writes its lines and tool calls, books what it books
through the scene's diary, and returns the Script (scores) a careful scorer would give.
"""

from demo.scripts.bookings import booked, cancelled, rescheduled
from demo.scripts.enquiries import abandoned, escalated, failed, info, unresolved

SCRIPTS = {
    "booked": booked, "info_only": info, "rescheduled": rescheduled, "cancelled": cancelled,
    "escalated": escalated, "abandoned": abandoned, "unresolved": unresolved, "failed": failed,
}

# How conversations end on each channel (percent-ish weights).
OUTCOME_WEIGHTS = {
    "voice": {"booked": 34, "info_only": 26, "rescheduled": 8, "cancelled": 7, "escalated": 4, "abandoned": 9, "unresolved": 7, "failed": 3},
    "sms": {"booked": 32, "info_only": 28, "rescheduled": 12, "cancelled": 12, "escalated": 3, "abandoned": 7, "unresolved": 6},
    "email": {"booked": 30, "info_only": 42, "rescheduled": 8, "cancelled": 8, "escalated": 4, "unresolved": 8},
}
# Outcomes where nobody needs to have told us who they are.
ANONYMOUS_OK = {"info_only", "abandoned", "failed"}
