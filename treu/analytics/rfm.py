"""RFM scoring: quintile scores 1–5 and the grid that names the segment of every score pair.

Scores are quintiles by rank, ties sharing the lower score:
``score = 1 + 5 × (rank − 1) ÷ n`` (integer division), where `rank` is the SQL RANK()
of the customer's value among the `n` customers (ascending: the oldest last order,
the fewest orders and the least revenue get 1). The segment is read from the
recency score R and the FM score, the rounded-up mean of F and M:
``FM = (F + M + 1) ÷ 2``. Every one of the 25 (R, FM) cells names exactly one segment,
so every customer is in exactly one segment (docs/metrics.md draws the grid).
"""

from __future__ import annotations

from treu.analytics.models import Segment

S = Segment
# GRID[r][fm]: rows R = 1 (longest ago) … 5 (most recent), columns FM = 1 … 5.
GRID: dict[int, dict[int, Segment]] = {
    1: {1: S.LOST, 2: S.LOST, 3: S.AT_RISK, 4: S.AT_RISK, 5: S.CANT_LOSE},
    2: {1: S.HIBERNATING, 2: S.HIBERNATING, 3: S.AT_RISK, 4: S.AT_RISK, 5: S.CANT_LOSE},
    3: {
        1: S.ABOUT_TO_SLEEP,
        2: S.ABOUT_TO_SLEEP,
        3: S.NEED_ATTENTION,
        4: S.LOYAL,
        5: S.LOYAL,
    },
    4: {
        1: S.PROMISING,
        2: S.POTENTIAL_LOYALIST,
        3: S.POTENTIAL_LOYALIST,
        4: S.LOYAL,
        5: S.LOYAL,
    },
    5: {
        1: S.NEW,
        2: S.POTENTIAL_LOYALIST,
        3: S.POTENTIAL_LOYALIST,
        4: S.CHAMPIONS,
        5: S.CHAMPIONS,
    },
}

# The order segments are listed in: best first, then those that need something done.
SEGMENT_ORDER: tuple[Segment, ...] = (
    S.CHAMPIONS,
    S.LOYAL,
    S.POTENTIAL_LOYALIST,
    S.NEW,
    S.PROMISING,
    S.NEED_ATTENTION,
    S.ABOUT_TO_SLEEP,
    S.AT_RISK,
    S.CANT_LOSE,
    S.HIBERNATING,
    S.LOST,
)


def quintile(rank: int, n: int) -> int:
    """The score of the `rank`-th (1-based, ties share the lowest rank) of `n` values."""
    if not 1 <= rank <= n:
        raise ValueError("rank must be between 1 and n")
    return 1 + 5 * (rank - 1) // n


def fm_score(frequency: int, monetary: int) -> int:
    return (frequency + monetary + 1) // 2


def segment_of(recency: int, frequency: int, monetary: int) -> Segment:
    return GRID[recency][fm_score(frequency, monetary)]


def segment_case_sql(r: str, fm: str) -> str:
    """The grid as a SQL CASE over the expressions `r` and `fm` (same on every DB).

    A simple CASE on r × 10 + fm: each expression is evaluated once per row, not per cell.
    """
    whens = " ".join(
        f"WHEN {ri * 10 + fi} THEN '{segment.value}'"
        for ri, row in GRID.items()
        for fi, segment in row.items()
    )
    return f"CASE ({r}) * 10 + ({fm}) {whens} END"
