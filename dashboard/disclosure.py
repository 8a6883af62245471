"""Disclosure control: how a count leaves the partnership (DOMAIN.md).

One set of rules, used by every national summary (the SCI page, its downloads and the API):

- 0 is shown as 0;
- 1 to 4 is shown as "<5" (primary suppression);
- any other count is rounded to the nearest 5 (7 shows as 5, 8 as 10, 13 as 15);
- a suppressed cell is protected by secondary suppression: in every row and column that adds up
  to a published total (the totals included), a suppressed cell never stands alone, and more
  figures are hidden until no hidden value can be worked out from the ranges that the published
  figures, totals and "<5"s give. The extra figures are shown as "[c]" (hidden to protect
  another); rarely, where even "<5" would give a value away, a count of 1 to 4 is shown as "[c]";
- no percentage on a denominator under 10, none of a suppressed cell, and a percentage is worked
  out from the published (rounded) figures, so it tells no more than they do.

Totals are worked out from the true counts, then shown by the same rules; they are never the sum
of the rounded cells.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

ROUNDING_BASE = 5
SMALLEST_SHOWN = 5  # counts below this (but above 0) are suppressed
MIN_DENOMINATOR = 10
SUPPRESSED = "<5"
CONCEALED = "[c]"

RULES = (
    "Only records marked TLP:GREEN or TLP:CLEAR are counted; TLP:AMBER and TLP:RED records never are.",
    "A count of 0 is shown as 0.",
    'A count from 1 to 4 is shown as "<5".',
    "Every other count is rounded to the nearest 5, so figures may not add up to the totals shown.",
    'Where a hidden count could be worked out from a total and the other figures, more figures are '
    'hidden too, shown as "[c]"; so no hidden count can be worked out from a table.',
    "Totals are rounded from the true counts, not added up from the rounded figures.",
    "No percentage is given where the total it is a share of is under 10, or where the count is hidden.",
)


class Suppression(StrEnum):
    NONE = ""
    PRIMARY = "primary"  # a count from 1 to 4
    SECONDARY = "secondary"  # hidden to protect a primary one


def show_count(count: int) -> int | str:
    """One count as it may be published on its own: 0, "<5" or a multiple of 5."""
    if isinstance(count, bool) or not isinstance(count, int):
        raise TypeError(f"A count must be a whole number, not {count!r}.")
    if count < 0:
        raise ValueError(f"A count cannot be negative ({count}).")
    if count == 0:
        return 0
    if count < SMALLEST_SHOWN:
        return SUPPRESSED
    return ROUNDING_BASE * ((count + ROUNDING_BASE // 2) // ROUNDING_BASE)


@dataclass(frozen=True)
class Cell:
    """A published figure: `shown` is what anyone outside the partnership may see."""

    shown: int | str
    suppression: Suppression = Suppression.NONE

    @property
    def suppressed(self) -> bool:
        return self.suppression is not Suppression.NONE

    @property
    def number(self) -> int | None:
        """The published number, or None where it is hidden."""
        return None if self.suppressed else int(self.shown)

    def __str__(self) -> str:
        return str(self.shown)


def _cell(count: int, suppression: Suppression) -> Cell:
    if suppression is Suppression.PRIMARY:
        return Cell(SUPPRESSED, suppression)
    if suppression is Suppression.SECONDARY:
        return Cell(CONCEALED, suppression)
    return Cell(show_count(count))


def share(part: Cell, whole_count: int, whole: Cell) -> str | None:
    """`part` as a percentage of `whole` ("40%"), or None where it may not be given: the true
    total `whole_count` is under 10, or either figure is hidden. Worked out from the published
    figures, so it reveals nothing the rounded counts do not."""
    if whole_count < MIN_DENOMINATOR or part.suppressed or whole.suppressed or not whole.number:
        return None
    return f"{round(100 * part.number / whole.number)}%"


@dataclass(frozen=True)
class ProtectedTable:
    """A table of counts after disclosure control.

    `cells[r][c]` for each row and column; `row_totals[r]` (when the rows add up to a total),
    `column_totals[c]` (when the columns do) and `grand_total` (when both do).
    """

    cells: tuple[tuple[Cell, ...], ...]
    row_totals: tuple[Cell, ...] | None
    column_totals: tuple[Cell, ...] | None
    grand_total: Cell | None

    @property
    def suppressed_count(self) -> int:
        every = [c for row in self.cells for c in row]
        every += list(self.row_totals or ()) + list(self.column_totals or ())
        every += [self.grand_total] if self.grand_total else []
        return sum(1 for c in every if c.suppressed)


def protect(
    counts: Sequence[Sequence[int]], *, row_totals: bool = True, column_totals: bool = True
) -> ProtectedTable:
    """Disclosure control of a table of true counts (rows of equal length).

    `row_totals`: each row adds up to a published total (False where rows overlap, for example
    strands, of which an incident may have several); `column_totals` likewise for the columns.
    The grand total is published when both are.
    """
    rows = [list(r) for r in counts]
    n_rows = len(rows)
    n_cols = len(rows[0]) if rows else 0
    if any(len(r) != n_cols for r in rows):
        raise ValueError("Every row of a table must have the same number of columns.")
    for r in rows:
        for value in r:
            show_count(value)  # refuses negatives and non-integers, naming the value
    grand = row_totals and column_totals

    # The table with its totals as one grid: row n_rows holds the column totals, column n_cols
    # the row totals, and (n_rows, n_cols) the grand total.
    value: dict[tuple[int, int], int] = {}
    for i, r in enumerate(rows):
        for j, v in enumerate(r):
            value[i, j] = v
        if row_totals:
            value[i, n_cols] = sum(r)
    if column_totals:
        for j in range(n_cols):
            value[n_rows, j] = sum(r[j] for r in rows)
    if grand:
        value[n_rows, n_cols] = sum(sum(r) for r in rows)

    # The lines whose cells add up to a published total: (cells, the total's position).
    lines: list[list[tuple[int, int]]] = []
    if row_totals:
        lines += [[(i, j) for j in range(n_cols + 1)] for i in range(n_rows)]
    if column_totals:
        lines += [[(i, j) for i in range(n_rows + 1)] for j in range(n_cols)]
    if grand:
        lines.append([(n_rows, j) for j in range(n_cols + 1)])
        lines.append([(i, n_cols) for i in range(n_rows + 1)])

    state = {pos: Suppression.PRIMARY if 0 < v < SMALLEST_SHOWN else Suppression.NONE
             for pos, v in value.items()}
    flow = _Flow(rows, n_rows, n_cols)
    while True:
        _hide_lone_cells(lines, value, state)
        pinned = flow.pinned(state)
        if not pinned:
            break
        # A hidden figure could still be worked out from the published ranges: hide one more
        # figure in one of its lines (or, failing that, anywhere), and check again.
        pos = pinned[0]
        own = [line for line in lines if pos in line]
        everything = [list(value)]
        if not (
            _hide_one_more(own, value, state)
            or _hide_one_more(own, value, state, escalate=True)
            or _hide_one_more(everything, value, state)
            or _hide_one_more(everything, value, state, escalate=True)
        ):
            raise AssertionError("No figure left to hide: cannot protect this table.")

    def at(pos: tuple[int, int]) -> Cell:
        return _cell(value[pos], state[pos])

    return ProtectedTable(
        cells=tuple(tuple(at((i, j)) for j in range(n_cols)) for i in range(n_rows)),
        row_totals=tuple(at((i, n_cols)) for i in range(n_rows)) if row_totals else None,
        column_totals=tuple(at((n_rows, j)) for j in range(n_cols)) if column_totals else None,
        grand_total=at((n_rows, n_cols)) if grand else None,
    )


def _hide_lone_cells(lines, value, state) -> None:
    """Secondary suppression by lines: until no line with a total has exactly one hidden figure."""
    changed = True
    while changed:
        changed = False
        for line in lines:
            hidden = [pos for pos in line if state[pos] is not Suppression.NONE]
            if len(hidden) == 1:
                if not _hide_one_more([line], value, state):
                    raise AssertionError("No figure left to protect a suppressed count.")
                changed = True


def _hide_one_more(lines, value, state, *, escalate: bool = False) -> bool:
    """Hide the smallest figure above 0 in `lines` (0 is always shown as 0 and hides nothing),
    a cell before a total, then the first in the line; False if there is none.

    With `escalate`, show a "<5" as "[c]" instead, a total first: for the rare table where even
    "<5" says too much (four districts of 1 each, and a total of "<5", give every one away).
    """
    wanted = Suppression.PRIMARY if escalate else Suppression.NONE
    candidates = [
        ((pos != line[-1]) if escalate else (pos == line[-1]), value[pos], order, pos)
        for line in lines
        for order, pos in enumerate(line)
        if pos in value and state[pos] is wanted and value[pos] > 0
    ]
    if not candidates:
        return False
    state[min(candidates)[3]] = Suppression.SECONDARY
    return True


def published_range(cell: Cell) -> tuple[int, float]:
    """What a published figure tells anyone about the true count: its smallest and largest
    possible values ("[c]" is at least 1, or it would show as 0)."""
    if cell.suppression is Suppression.PRIMARY:
        return 1, SMALLEST_SHOWN - 1
    if cell.suppression is Suppression.SECONDARY:
        return 1, math.inf
    shown = int(cell.shown)
    if shown == 0:
        return 0, 0
    return max(SMALLEST_SHOWN, shown - ROUNDING_BASE // 2), shown + ROUNDING_BASE // 2


class _Flow:
    """The table as a circulation, to find hidden figures that the published ones pin down.

    Rows and columns are nodes; each cell is an edge from its row to its column, each row total
    an edge from a source to the row, each column total from the column to a sink, and the grand
    total from the sink back to the source. The true counts are one circulation; every table
    anyone could believe from the published ranges is another. A hidden figure could differ
    from its true value (so cannot be worked out) exactly when its edge lies on a cycle of the
    residual graph: the constraint matrix is totally unimodular, so the integer and the real
    ranges agree, and one unit can be moved round any such cycle.
    """

    def __init__(self, rows: list[list[int]], n_rows: int, n_cols: int) -> None:
        self.n_rows, self.n_cols = n_rows, n_cols
        source, sink = ("s",), ("t",)
        self.edges: dict[tuple[int, int], tuple[tuple, tuple, int]] = {}
        for i, r in enumerate(rows):
            for j, v in enumerate(r):
                self.edges[i, j] = (("r", i), ("c", j), v)
            self.edges[i, n_cols] = (source, ("r", i), sum(r))
        for j in range(n_cols):
            self.edges[n_rows, j] = (("c", j), sink, sum(r[j] for r in rows))
        self.edges[n_rows, n_cols] = (sink, source, sum(sum(r) for r in rows))

    def pinned(self, state: dict[tuple[int, int], Suppression]) -> list[tuple[int, int]]:
        """The hidden figures whose value the published ranges leave no choice about."""
        ranges = {
            pos: published_range(_cell(self.edges[pos][2], state[pos])) if pos in state else (0, math.inf)
            for pos in self.edges
        }
        arcs: dict[tuple, list[tuple[tuple, tuple[int, int]]]] = {}
        for pos, (u, v, flow) in self.edges.items():
            low, high = ranges[pos]
            if flow < high:
                arcs.setdefault(u, []).append((v, pos))
            if flow > low:
                arcs.setdefault(v, []).append((u, pos))
        component = _components(arcs)
        pinned = []
        for pos, (u, v, flow) in self.edges.items():
            if state.get(pos, Suppression.NONE) is Suppression.NONE:
                continue
            low, high = ranges[pos]
            up, down = flow < high, flow > low
            # A cycle through the edge needs a path back, so its ends in one strong component.
            # With one direction open only, any path back avoids the edge itself (no other edge
            # joins the same two nodes); with both open, the path back must be looked for.
            if not (up or down) or component[u] != component[v]:
                pinned.append(pos)
            elif up and down and not (_reaches(arcs, v, u, pos) or _reaches(arcs, u, v, pos)):
                pinned.append(pos)
        return pinned


def _components(arcs) -> dict:
    """The strong component of every node of the residual graph (Tarjan's algorithm, without
    recursion): node -> the component's number."""
    nodes = set(arcs) | {nxt for out in arcs.values() for nxt, _pos in out}
    index: dict = {}
    low: dict = {}
    component: dict = {}
    stack: list = []
    on_stack: set = set()
    counter = 0
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(arcs.get(root, ())))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, out = work[-1]
            for nxt, _pos in out:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(arcs.get(nxt, ()))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component[member] = index[node]
                        if member == node:
                            break
    return component


def _reaches(arcs, start, goal, avoid) -> bool:
    """Whether the residual graph has a path from `start` to `goal` not using edge `avoid`."""
    seen = {start}
    todo = [start]
    while todo:
        node = todo.pop()
        for nxt, pos in arcs.get(node, ()):
            if pos == avoid or nxt in seen:
                continue
            if nxt == goal:
                return True
            seen.add(nxt)
            todo.append(nxt)
    return False
