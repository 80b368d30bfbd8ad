from __future__ import annotations

import pytest

from treu.core.sequences import next_number, reserve_numbers

pytestmark = pytest.mark.django_db


def test_numbers_follow_each_other_from_the_start():
    assert next_number("invoice", start=100) == 100
    assert next_number("invoice", start=100) == 101
    assert reserve_numbers("invoice", 10) == 102
    assert next_number("invoice") == 112


def test_it_refuses_reserving_nothing():
    with pytest.raises(ValueError):
        reserve_numbers("invoice", 0)
