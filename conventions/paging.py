"""One page of a list without an exact total: counting a million rows costs more than the page.

The dashboard's lists and the conversation API page this way (ARCHITECTURE.md has the figures):
one row more than the page is read, to know whether there is a next page.
"""

from dataclasses import dataclass, field


@dataclass
class Page:
    items: list
    number: int
    page_size: int
    has_next: bool
    has_previous: bool = field(init=False)

    def __post_init__(self):
        self.has_previous = self.number > 1


def page_of(queryset, *, page=1, page_size=25):
    """Page `page` (from 1; anything lower is 1) of `queryset`, which must be ordered."""
    page = max(1, page)
    start = (page - 1) * page_size
    rows = list(queryset[start:start + page_size + 1])
    return Page(items=rows[:page_size], number=page, page_size=page_size, has_next=len(rows) > page_size)
