"""A page says whether there is a next one without counting the rows."""

import pytest
from django.contrib.auth.models import Group

from conventions.paging import page_of


def ours():
    return Group.objects.filter(name__startswith="group ").order_by("name")


@pytest.fixture
def groups(db):
    return Group.objects.bulk_create(Group(name=f"group {n:02}") for n in range(5))


def test_it_gives_the_first_page_and_says_more_follow(groups):
    page = page_of(ours(), page=1, page_size=2)
    assert [g.name for g in page.items] == ["group 00", "group 01"]
    assert page.has_next and not page.has_previous


def test_the_last_page_has_no_next(groups):
    page = page_of(ours(), page=3, page_size=2)
    assert [g.name for g in page.items] == ["group 04"]
    assert not page.has_next and page.has_previous


def test_a_page_past_the_end_is_empty_and_a_page_below_one_is_the_first(groups):
    assert page_of(ours(), page=9, page_size=2).items == []
    assert page_of(ours(), page=0, page_size=2).number == 1


def test_it_counts_nothing(groups, django_assert_num_queries):
    with django_assert_num_queries(1):
        page_of(ours(), page=2, page_size=2)
