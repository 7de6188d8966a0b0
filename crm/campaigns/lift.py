"""The lift of a campaign: how much more often its members ordered than the control group.

Pure arithmetic, no database. The 95 % interval of the difference of two
proportions is Newcombe's hybrid score interval (Newcombe 1998, method 10),
built from each group's Wilson score interval. Why not the textbook Wald
interval (difference ± 1.96 standard errors): conversion rates are small
(a few percent) and control groups can be small, and there Wald's interval is
too narrow (it calls chance a real effect more often than 1 in 20) and
collapses to a single point when a group has no order at all. Newcombe's
keeps close to 95 % coverage in those cases and needs only a square root.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# The 97.5th percentile of the standard normal distribution.
Z95 = 1.959963984540054


def wilson(successes: int, total: int, z: float = Z95) -> tuple[float, float]:
    """Wilson's score interval for ``successes`` out of ``total`` (total > 0)."""
    if total <= 0:
        raise ValueError("total must be positive")
    p = successes / total
    z2 = z * z
    denominator = 1 + z2 / total
    centre = (p + z2 / (2 * total)) / denominator
    half = z * math.sqrt(p * (1 - p) / total + z2 / (4 * total * total)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Lift:
    """Conversion of the sent group against the control group, as fractions (0.061 = 6.1 %)."""

    sent_rate: float
    control_rate: float
    # sent_rate - control_rate, and its 95 % interval.
    difference: float
    low: float
    high: float

    @property
    def distinguishable(self) -> bool:
        """The interval leaves out zero: chance alone would rarely give such a difference."""
        return self.low > 0 or self.high < 0


def lift(sent_converted: int, sent: int, control_converted: int, control: int) -> Lift | None:
    """Newcombe's interval for the difference of the two conversion rates; None when a
    group is empty (no control group, or nothing sent yet)."""
    if sent <= 0 or control <= 0:
        return None
    p1 = sent_converted / sent
    p2 = control_converted / control
    l1, u1 = wilson(sent_converted, sent)
    l2, u2 = wilson(control_converted, control)
    difference = p1 - p2
    low = difference - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = difference + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return Lift(p1, p2, difference, low, high)


def percent(fraction: float) -> str:
    """0.061 -> '6.1 %', with a no-break space: never "6.1" and "%" on two lines."""
    return f"{fraction * 100:.1f}\u00a0%"


def points(fraction: float) -> str:
    """A difference of rates in percentage points, signed: 0.021 -> '+2.1', -0.01 -> '−1.0'."""
    value = round(fraction * 100, 1)
    if value == 0:
        return "0.0"
    return f"+{value:.1f}" if value > 0 else f"−{-value:.1f}"
