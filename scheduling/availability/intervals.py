"""Arithmetic on half-open intervals [start, end) of Unix seconds: the slot engine's busy and free times."""


def ceil_to(value, step):
    """The smallest multiple of `step` not below `value`."""
    return -(-value // step) * step


def merge(intervals):
    """Sorted, with touching or overlapping intervals joined."""
    merged = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def subtract(intervals, cut):
    """`intervals` less the interval `cut`."""
    out = []
    for start, end in intervals:
        if end <= cut[0] or start >= cut[1]:
            out.append((start, end))
            continue
        if start < cut[0]:
            out.append((start, cut[0]))
        if end > cut[1]:
            out.append((cut[1], end))
    return out


def overlaps(intervals, start, end):
    return any(a < end and start < b for a, b in intervals)
