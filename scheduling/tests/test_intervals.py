"""The slot engine's interval arithmetic on [start, end) seconds: what is busy joins, what is cut is free."""

from scheduling.availability.intervals import ceil_to, merge, overlaps, subtract


def test_overlapping_and_touching_busy_times_join_and_come_out_sorted():
    assert merge([(50, 60), (0, 10), (10, 20), (15, 30)]) == [(0, 30), (50, 60)]


def test_cutting_the_middle_leaves_both_ends_and_a_cut_elsewhere_leaves_all():
    assert subtract([(0, 100)], (40, 60)) == [(0, 40), (60, 100)]
    assert subtract([(0, 100)], (100, 120)) == [(0, 100)]
    assert subtract([(0, 100)], (0, 100)) == []


def test_an_interval_ending_where_another_starts_does_not_overlap_it():
    assert not overlaps([(0, 10)], 10, 20)
    assert overlaps([(0, 10)], 9, 20)


def test_a_start_is_rounded_up_onto_the_grid():
    assert (ceil_to(0, 900), ceil_to(1, 900), ceil_to(900, 900)) == (0, 900, 900)
