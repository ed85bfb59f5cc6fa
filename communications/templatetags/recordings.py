"""Times in a call's recording as staff read them beside the player."""

from django import template

register = template.Library()


@register.filter
def clock(milliseconds):
    """`{{ message.recording_start_ms|clock }}`: 0:07, 12:45, 1:02:03 (as the player counts); "" when unknown."""
    if milliseconds is None or milliseconds == "":
        return ""
    seconds = max(0, int(milliseconds)) // 1000
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"
