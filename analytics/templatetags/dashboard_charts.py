"""Server-rendered SVG charts and small formatting filters for the staff dashboard.

Charts are plain SVG with a <title> and <desc> (role="img"), so a screen reader hears what
they show; the templates print the same figures as text beside them. No JavaScript.
"""

from datetime import date, datetime, time

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from scheduling.spoken import spoken_time

register = template.Library()

WIDTH, HEIGHT = 360, 170
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 30, 6, 10, 22


@register.filter
def parse_iso(value):
    """An ISO 8601 string (as live payloads carry them) as a datetime; datetimes pass through."""
    if not value or isinstance(value, (datetime, date)):
        return value
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


@register.filter
def percent(value, digits=0):
    """0.4567 -> "46%"; None -> "–" (no denominator, nothing to say)."""
    if value is None:
        return "–"
    return f"{value * 100:.{int(digits)}f}%"


@register.filter
def seconds(value):
    """A length in seconds as "4:05" (or "1:02:03"); None -> "–"."""
    if value is None:
        return "–"
    total = int(round(value))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@register.filter
def elapsed(started_at):
    """How long ago an ISO time (or datetime) was, as "4:05": a live conversation's length so far."""
    started_at = parse_iso(started_at)
    if not started_at:
        return "–"
    return seconds(max(0, (timezone.now() - started_at).total_seconds()))


@register.filter
def share_of(value, total):
    """value / total as a 0-100 width for CSS bars (0 when total is 0)."""
    try:
        return round(100 * value / total, 1) if total else 0
    except (TypeError, ZeroDivisionError):
        return 0


@register.filter
def heat_level(count, busiest):
    """0-5: how busy a heat-map cell is compared with the busiest cell."""
    if not count or not busiest:
        return 0
    return max(1, min(5, round(5 * count / busiest)))


def _n(number):
    """A coordinate with one decimal, as SVG wants it."""
    return f"{number:.1f}"


def _nice_max(value):
    """A round top for the y axis (1, 2, 5, 10, 20, 50, …) at or above value."""
    if value <= 0:
        return 1
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def _x_positions(count):
    inner = WIDTH - PAD_LEFT - PAD_RIGHT
    slot = inner / max(count, 1)
    return slot, [PAD_LEFT + slot * index for index in range(count)]


def _y(value, top):
    inner = HEIGHT - PAD_TOP - PAD_BOTTOM
    return PAD_TOP + inner * (1 - value / top)


def _frame(*, title, desc, top, days, body, chart_id):
    """The SVG around a chart: title, description, y gridlines at 0, half and top, first/last day labels."""
    parts = [
        format_html('<svg class="chart" viewBox="0 0 {} {}" role="img" aria-labelledby="{}-title {}-desc">',
                    WIDTH, HEIGHT, chart_id, chart_id),
        format_html('<title id="{}-title">{}</title><desc id="{}-desc">{}</desc>', chart_id, title, chart_id, desc),
    ]
    for fraction in (0, 0.5, 1):
        value = top * fraction
        y = _y(value, top)
        label = f"{value:g}"
        parts.append(format_html('<line class="grid" x1="{}" x2="{}" y1="{}" y2="{}"/>'
                                 '<text class="axis" x="{}" y="{}" text-anchor="end">{}</text>',
                                 PAD_LEFT, WIDTH - PAD_RIGHT, _n(y), _n(y), PAD_LEFT - 4, _n(y + 4), label))
    if days:
        baseline = HEIGHT - 6
        parts.append(format_html('<text class="axis" x="{}" y="{}">{}</text>', PAD_LEFT, baseline,
                                 days[0].strftime("%b %-d")))
        parts.append(format_html('<text class="axis" x="{}" y="{}" text-anchor="end">{}</text>',
                                 WIDTH - PAD_RIGHT, baseline, days[-1].strftime("%b %-d")))
    parts.extend(body)
    parts.append(mark_safe("</svg>"))
    return mark_safe("".join(parts))


def _days(series):
    return [date.fromisoformat(point["date"]) for point in series]


@register.simple_tag
def stacked_bar_chart(series, keys, labels, *, title, chart_id):
    """Daily bars stacked from `keys` of each point of `series` (daily_series' entries)."""
    keys = keys.split(",")
    labels = labels.split(",")
    days = _days(series)
    totals = [sum(_value(point, key) for key in keys) for point in series]
    top = _nice_max(max(totals, default=0))
    slot, xs = _x_positions(len(series))
    width = max(slot * 0.7, 1)
    body = []
    for point, day, x, total in zip(series, days, xs, totals):
        base = 0
        pieces = [(key, label, _value(point, key)) for key, label in zip(keys, labels)]
        tip = f"{day:%a %b} {day.day}: " + ", ".join(f"{value} {label.lower()}" for _, label, value in pieces)
        body.append(format_html("<g><title>{}</title>", tip))
        for index, (_, _, value) in enumerate(pieces):
            if value:
                y_top, y_bottom = _y(base + value, top), _y(base, top)
                body.append(format_html('<rect class="series-{}" x="{}" y="{}" width="{}" height="{}"/>',
                                        index, _n(x + (slot - width) / 2), _n(y_top), _n(width), _n(y_bottom - y_top)))
            base += value
        body.append(mark_safe("</g>"))
    busiest = max(zip(totals, days), default=(0, None))
    desc = f"{sum(totals)} in {len(series)} days"
    if busiest[1] is not None and busiest[0]:
        desc += f"; busiest {busiest[1]:%A %B} {busiest[1].day} with {busiest[0]}"
    desc += f"; today {totals[-1] if totals else 0}."
    return _frame(title=title, desc=desc, top=top, days=days, body=body, chart_id=chart_id)


@register.simple_tag
def line_chart(series, key, *, title, chart_id, top=None, unit=""):
    """A daily line of `key`; days without a value (None) break the line rather than dropping to zero."""
    days = _days(series)
    values = [point.get(key) for point in series]
    known = [value for value in values if value is not None]
    top = top or _nice_max(max(known, default=0))
    slot, xs = _x_positions(len(series))
    body, run = [], []

    def flush():
        if len(run) > 1:
            body.append(format_html('<polyline class="line" points="{}"/>', " ".join(run)))

    for day, x, value in zip(days, xs, values):
        if value is None:
            flush()
            run = []
            continue
        cx, cy = x + slot / 2, _y(value, top)
        run.append(f"{cx:.1f},{cy:.1f}")
        body.append(format_html('<circle class="dot" cx="{}" cy="{}" r="3"><title>{}: {}{}</title></circle>',
                                _n(cx), _n(cy), f"{day:%a %b} {day.day}", f"{value:g}", unit))
    flush()
    if known:
        desc = (f"From {min(known):g}{unit} to {max(known):g}{unit} on the {len(known)} days with a value; "
                f"average {sum(known) / len(known):.1f}{unit}.")
    else:
        desc = "No values in these days."
    return _frame(title=title, desc=desc, top=top, days=days, body=body, chart_id=chart_id)


def _value(point, key):
    if "." in key:  # "voice.conversations": one channel's figure
        channel, name = key.split(".", 1)
        return point["by_channel"].get(channel, {}).get(name) or 0
    return point.get(key) or 0


@register.filter
def hour_label(hour):
    """13 -> "1 PM"."""
    return spoken_time(time(int(hour)))
