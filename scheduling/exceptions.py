"""What scheduling says when it cannot do what was asked, in words a caller can hear.

Every error carries a stable `code` for programs (the assistant's tools, the API)
and a `message` for people, plus the nearest `alternatives` (Openings) when there are any.
"""


class SchedulingError(Exception):
    default_code = "scheduling_error"
    default_message = "That could not be scheduled."

    def __init__(self, message=None, *, code=None, alternatives=(), details=None):
        self.message = message or self.default_message
        self.code = code or self.default_code
        self.alternatives = list(alternatives)
        # Extra facts for the caller's next step, e.g. the consultation to offer instead.
        self.details = dict(details or {})
        super().__init__(self.message)

    def __repr__(self):
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"

    def to_dict(self):
        return {
            "code": self.code,
            "message": self.message,
            "alternatives": [opening.to_dict() for opening in self.alternatives],
            "details": self.details,
        }


class SlotTaken(SchedulingError):
    """Someone else holds that time (another booking, or a busy time on the provider's calendar)."""

    default_code = "slot_taken"
    default_message = "That time was just taken."


class BookingRefused(SchedulingError):
    """The request breaks a clinic rule: consultation_required, outside_hours, closed, too_soon,
    beyond_horizon, in_the_past, provider_does_not_perform, provider_unavailable, not_found, ...
    """

    default_code = "refused"
    default_message = "That booking is not possible."


class CalendarUnavailable(SchedulingError):
    """The calendar backend (Google) failed; nothing was left half made."""

    default_code = "calendar_unavailable"
    default_message = "The calendar is not answering right now, so nothing was changed. Please try again in a moment."
