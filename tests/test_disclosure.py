"""Disclosure control: every count that leaves the partnership is shown by these rules.

The property tests play the part of someone outside the partnership who holds a published table
and tries to work out a hidden count from it: every published figure becomes the range of values
it could stand for, the rows, columns and totals become sums, and an integer linear program
(scipy's HiGHS, independent of the algorithm under test) finds the smallest and largest value
each hidden count could take. If the two were ever equal, the count would be recovered.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import Bounds, LinearConstraint, milp

from dashboard.disclosure import (
    CONCEALED,
    MIN_DENOMINATOR,
    SUPPRESSED,
    Cell,
    Suppression,
    protect,
    published_range,
    share,
    show_count,
)

# --- one count ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "shown"),
    [(0, 0), (1, SUPPRESSED), (2, SUPPRESSED), (4, SUPPRESSED), (5, 5), (6, 5), (7, 5), (8, 10),
     (10, 10), (12, 10), (13, 15), (17, 15), (18, 20), (1_000_002, 1_000_000), (1_000_003, 1_000_005)],
)
def test_a_count_is_shown_as_0_as_under_5_or_rounded_to_the_nearest_5(count, shown):
    assert show_count(count) == shown


@pytest.mark.parametrize("bad", [-1, 2.5, "3", None, True])
def test_a_count_that_is_not_a_whole_number_of_at_least_0_is_refused(bad):
    with pytest.raises((TypeError, ValueError), match="count"):
        show_count(bad)


def test_what_each_published_figure_says_about_the_true_count():
    assert published_range(Cell(0)) == (0, 0)
    assert published_range(Cell(SUPPRESSED, Suppression.PRIMARY)) == (1, 4)
    assert published_range(Cell(5)) == (5, 7)  # 3 and 4 would show as "<5"
    assert published_range(Cell(10)) == (8, 12)
    assert published_range(Cell(CONCEALED, Suppression.SECONDARY)) == (1, math.inf)


# --- percentages -------------------------------------------------------------------------------


def test_no_percentage_on_a_denominator_under_10():
    assert share(Cell(5), 9, Cell(10)) is None
    assert share(Cell(5), 10, Cell(10)) == "50%"


def test_no_percentage_of_a_hidden_count_or_of_a_hidden_total():
    assert share(Cell(SUPPRESSED, Suppression.PRIMARY), 40, Cell(40)) is None
    assert share(Cell(10), 40, Cell(CONCEALED, Suppression.SECONDARY)) is None


def test_a_percentage_is_worked_out_from_the_rounded_figures_so_it_tells_no_more_than_they_do():
    # 7 of 12 is 58%, but the published figures are 5 of 10: a percentage of the true counts
    # would narrow the 7 down from "5 to 7".
    t = protect([[7, 5]])
    assert share(t.cells[0][0], 12, t.row_totals[0]) == "50%"


def test_min_denominator_is_ten():
    assert MIN_DENOMINATOR == 10


# --- tables: the rules on cases a person can check by hand -------------------------------------


def shown(t) -> list[list]:
    return [[c.shown for c in row] for row in t.cells]


def test_a_table_with_nothing_small_is_only_rounded_and_its_totals_come_from_the_true_counts():
    t = protect([[12, 8], [23, 7]])
    assert shown(t) == [[10, 10], [25, 5]]
    assert [c.shown for c in t.row_totals] == [20, 30]
    assert [c.shown for c in t.column_totals] == [35, 15]
    # 50 true; the rounded cells add up to 50 here only by chance, the total is rounded from 50.
    assert t.grand_total.shown == 50
    assert t.suppressed_count == 0


def test_zeros_stay_zero_and_are_never_hidden():
    t = protect([[0, 0], [0, 3]])
    assert t.cells[0][0].shown == 0 and t.cells[0][1].shown == 0 and t.cells[1][0].shown == 0
    assert all(not c.suppressed for row in t.cells for c in row if c.shown == 0)


def test_a_lone_small_count_in_a_row_is_protected_by_hiding_another_figure_in_the_row():
    t = protect([[3, 20, 40]], column_totals=False)
    assert t.cells[0][0].shown == SUPPRESSED
    # Without a second hidden figure, 63 - 20 - 40 would give the 3 away (give or take rounding).
    assert t.cells[0][1].shown == CONCEALED  # the smallest figure above 0 is hidden
    assert t.cells[0][2].shown == 40
    assert t.row_totals[0].shown == 65


def test_secondary_suppression_spreads_to_the_columns_and_the_totals_it_touches():
    t = protect([[3, 20], [30, 40]])
    hidden = {(i, j) for i, row in enumerate(t.cells) for j, c in enumerate(row) if c.suppressed}
    # Row 0 and column 0 each need a second hidden figure; so do the lines those touch.
    for i in range(2):
        row = [t.cells[i][0], t.cells[i][1], t.row_totals[i]]
        assert sum(c.suppressed for c in row) != 1
    for j in range(2):
        column = [t.cells[0][j], t.cells[1][j], t.column_totals[j]]
        assert sum(c.suppressed for c in column) != 1
    assert (0, 0) in hidden


def test_two_fours_under_a_total_of_8_are_not_given_away_by_the_rounded_total():
    # "<5" and "<5" with a total shown as 10 (8 to 12) would mean both are exactly 4.
    t = protect([[4, 4]], column_totals=False)
    assert [c.shown for c in t.cells[0]] == [SUPPRESSED, SUPPRESSED]
    assert t.row_totals[0].shown == CONCEALED


def test_four_ones_under_a_total_under_5_are_not_given_away():
    # Four districts of "<5" each and a total of "<5" would mean every one is exactly 1.
    t = protect([[1], [1], [1], [1]], row_totals=False)
    assert t.column_totals[0].shown == CONCEALED
    assert all(row[0].shown == SUPPRESSED for row in t.cells)


def test_rows_that_overlap_have_no_row_totals_and_need_no_protection_along_the_row():
    t = protect([[3, 40]], row_totals=False, column_totals=False)
    assert t.row_totals is None and t.column_totals is None and t.grand_total is None
    assert [c.shown for c in t.cells[0]] == [SUPPRESSED, 40]


def test_an_empty_table_and_an_all_zero_table():
    t = protect([])
    assert t.cells == () and t.grand_total.shown == 0
    t = protect([[0, 0], [0, 0]])
    assert t.suppressed_count == 0 and t.grand_total.shown == 0


def test_rows_of_different_lengths_are_refused():
    with pytest.raises(ValueError, match="same number of columns"):
        protect([[1, 2], [3]])


def test_a_negative_count_in_a_table_is_refused():
    with pytest.raises(ValueError, match="negative"):
        protect([[1, -2]])


# --- properties --------------------------------------------------------------------------------


def published_sums(t, n_rows: int, n_cols: int) -> list[tuple[np.ndarray, Cell]]:
    """Every published figure as (which true cells it adds up, what was published)."""
    def vector(cells):
        v = np.zeros(n_rows * n_cols)
        for i, j in cells:
            v[i * n_cols + j] = 1
        return v

    sums = [(vector([(i, j)]), t.cells[i][j]) for i in range(n_rows) for j in range(n_cols)]
    if t.row_totals is not None:
        sums += [(vector([(i, j) for j in range(n_cols)]), t.row_totals[i]) for i in range(n_rows)]
    if t.column_totals is not None:
        sums += [(vector([(i, j) for i in range(n_rows)]), t.column_totals[j]) for j in range(n_cols)]
    if t.grand_total is not None:
        sums.append((vector([(i, j) for i in range(n_rows) for j in range(n_cols)]), t.grand_total))
    return sums


def attackers_ranges(t, n_rows: int, n_cols: int) -> list[tuple[Cell, float, float]]:
    """For each hidden figure, the smallest and largest true value consistent with everything
    published (integer programs over the true cells)."""
    sums = published_sums(t, n_rows, n_cols)
    matrix = np.array([v for v, _ in sums])
    low = np.array([published_range(c)[0] for _, c in sums], dtype=float)
    high = np.array([published_range(c)[1] for _, c in sums], dtype=float)
    constraint = LinearConstraint(matrix, low, high)
    integral = np.ones(n_rows * n_cols)
    found = []
    for vector, cell in sums:
        if not cell.suppressed:
            continue
        smallest = milp(vector, constraints=constraint, integrality=integral, bounds=Bounds(0, np.inf))
        largest = milp(-vector, constraints=constraint, integrality=integral, bounds=Bounds(0, np.inf))
        assert smallest.status == 0, "the true table must itself be consistent with what was published"
        top = math.inf if largest.status != 0 else -largest.fun  # unbounded above
        found.append((cell, smallest.fun, top))
    return found


def tables(max_rows: int = 4, max_cols: int = 4):
    """Small tables rich in small counts (where disclosure happens), with some larger ones."""
    count = st.one_of(st.integers(0, 6), st.integers(0, 6), st.integers(0, 40))
    return st.integers(1, max_rows).flatmap(
        lambda r: st.integers(1, max_cols).flatmap(
            lambda c: st.lists(st.lists(count, min_size=c, max_size=c), min_size=r, max_size=r)
        )
    )


PROPERTY = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(tables(), st.booleans(), st.booleans())
def test_no_hidden_count_can_be_recovered_from_a_published_tables_rows_columns_and_totals(
    counts, row_totals, column_totals
):
    t = protect(counts, row_totals=row_totals, column_totals=column_totals)
    for cell, smallest, largest in attackers_ranges(t, len(counts), len(counts[0])):
        assert smallest < largest, f"{cell} in {counts} can only be {smallest}"


@PROPERTY
@given(tables(5, 3))
def test_every_published_figure_follows_the_rules_when_recomputed_from_the_true_counts(counts):
    t = protect(counts)
    true_rows = [sum(r) for r in counts]
    true_columns = [sum(r[j] for r in counts) for j in range(len(counts[0]))]
    pairs = [(c, v) for row, values in zip(t.cells, counts, strict=True) for c, v in zip(row, values, strict=True)]
    pairs += list(zip(t.row_totals, true_rows, strict=True)) + list(zip(t.column_totals, true_columns, strict=True))
    pairs.append((t.grand_total, sum(true_rows)))
    for cell, true in pairs:
        if true == 0:
            assert cell.shown == 0 and not cell.suppressed
        elif cell.shown == SUPPRESSED:
            assert 1 <= true <= 4 and cell.suppression is Suppression.PRIMARY
        elif cell.shown == CONCEALED:
            assert cell.suppression is Suppression.SECONDARY
        else:
            assert true >= 5 and cell.shown == show_count(true) and cell.shown % 5 == 0
        if 1 <= true <= 4:
            assert cell.suppressed  # a small count is never shown as a number
    # No row or column (totals included) with a published total holds exactly one hidden figure.
    lines = [[*row, total] for row, total in zip(t.cells, t.row_totals, strict=True)]
    lines += [[*(row[j] for row in t.cells), t.column_totals[j]] for j in range(len(counts[0]))]
    lines += [[*t.column_totals, t.grand_total], [*t.row_totals, t.grand_total]]
    for line in lines:
        assert sum(c.suppressed for c in line) != 1


@PROPERTY
@given(tables(3, 3))
def test_the_same_counts_always_give_the_same_published_table(counts):
    assert protect(counts) == protect([list(r) for r in counts])


def test_a_district_by_category_sized_table_is_protected_and_checked_by_the_attacker():
    # 65 districts by 12 categories, with plenty of small counts: the size of the real table.
    rng = np.random.default_rng(7)
    counts = rng.choice([0, 0, 1, 2, 3, 4, 5, 6, 8, 12, 20, 40], size=(65, 12)).tolist()
    t = protect(counts)
    assert t.suppressed_count > 100
    ranges = attackers_ranges(t, 65, 12)
    assert all(smallest < largest for _cell, smallest, largest in ranges)
