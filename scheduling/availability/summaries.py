"""What the assistant says about availability: the asked days' openings, or the nearest ones, in a few words."""

from collections import defaultdict
from datetime import timedelta

from django.conf import settings

from scheduling.availability.engine import PARTS_OF_DAY
from scheduling.spoken import spoken_day, spoken_time

SUMMARY_DAYS = 3
SUMMARY_FIRST_OPENINGS = 3


def summary(result, *, today, tz, clinic, now):
    """One paragraph for the assistant: the asked days' openings by day, or why there are none and the nearest."""
    service = result.service
    asked = _spoken_range(result.start_date, result.end_date, today)
    part = f" in the {result.part_of_day}" if result.part_of_day else ""
    if not result.openings:
        text = f"There are no openings for {service.name} {asked}{part}."
        if result.nearest_openings:
            text += f" The nearest: {_spoken_openings(result.nearest_openings, today)}."
        else:
            text += f" Nothing is open{part} in the next {clinic.booking_horizon_days} days."
        return text
    step = timedelta(minutes=settings.SCHEDULING_SLOT_INTERVAL_MINUTES)
    by_day = defaultdict(list)
    for opening in result.openings:
        by_day[opening.start.date()].append(opening.start)
    day_texts = []
    for day in sorted(by_day)[:SUMMARY_DAYS]:
        parts = []
        for name, (low, high) in PARTS_OF_DAY.items():
            starts = sorted({s for s in by_day[day] if low <= s.hour * 60 + s.minute < high})
            if starts:
                parts.append(f"{name} {_join([_spoken_run(run) for run in _runs(starts, step)])}")
        day_texts.append(f"{spoken_day(day, today)}: {'; '.join(parts)}")
    text = f"{service.name}{part}: " + ". ".join(day_texts) + "."
    if len(by_day) > SUMMARY_DAYS:
        text += f" More openings through {spoken_day(max(by_day), today)}."
    # The first few start times, grouped when they share a day and providers ("tomorrow at 9 AM and 9:15 AM with Dana").
    groups = []
    for start in sorted({opening.start for opening in result.openings})[:SUMMARY_FIRST_OPENINGS]:
        names = [o.provider.name for o in result.openings if o.start == start]
        who = _join(names[:2], last="or") + (" and others" if len(names) > 2 else "")
        key = (start.date(), who)
        if groups and groups[-1][0] == key:
            groups[-1][1].append(start)
        else:
            groups.append((key, [start]))
    firsts = [
        f"{spoken_day(day, today)} at {_join([spoken_time(s) for s in starts])} with {who}"
        for (day, who), starts in groups
    ]
    text += " The first: " + "; ".join(firsts) + "."
    return text


def _spoken_openings(openings, today):
    """'Monday, March 2 at 12 PM and Wednesday, March 4 at 1 PM with Hannah Cole' (one provider named once)."""
    names = {opening.provider.name for opening in openings}
    items = [f"{spoken_day(o.start.date(), today)} at {spoken_time(o.start)}"
             + ("" if len(names) == 1 else f" with {o.provider.name}") for o in openings]
    return _join(items) + (f" with {names.pop()}" if len(names) == 1 else "")


def _runs(starts, step):
    runs, current = [], [starts[0]]
    for start in starts[1:]:
        if start - current[-1] <= step:
            current.append(start)
        else:
            runs.append(current)
            current = [start]
    runs.append(current)
    return runs


def _spoken_run(run):
    if len(run) == 1:
        return f"at {spoken_time(run[0])}"
    first, last = run[0], run[-1]
    if (first.hour < 12) == (last.hour < 12):
        return f"from {spoken_time(first, meridiem=False)} to {spoken_time(last)}"
    return f"from {spoken_time(first)} to {spoken_time(last)}"


def _spoken_range(first, last, today):
    if first == last:
        return spoken_day(first, today) if first in (today, today + timedelta(days=1)) else f"on {spoken_day(first, today)}"
    return f"between {spoken_day(first, today)} and {spoken_day(last, today)}"


def _join(items, *, last="and"):
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {last} " + items[-1]


# --- small helpers ----------------------------------------------------------------------------
