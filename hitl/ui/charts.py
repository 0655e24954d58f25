"""Altair charts for the History page (pure: frames in, charts out)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from hitl.ui.tables import approval_rates

__all__ = ["decisions_per_day", "approval_rate_per_graph", "time_to_decision", "waiting_unit"]

OUTCOME_COLORS = {
    "completed": "#16a34a",
    "waiting": "#2563eb",
    "failed": "#dc2626",
    "timeout": "#f97316",
    "resolved": "#7c3aed",
    "recovered": "#0891b2",
    "abandoned": "#6b7280",
}


def decisions_per_day(frame: pd.DataFrame) -> alt.Chart:
    """Stacked bars: decisions per UTC day, coloured by outcome."""
    data = frame.assign(day=frame["decided_at"].dt.strftime("%Y-%m-%d")).groupby(["day", "outcome"]).size()
    data = data.rename("decisions").reset_index()
    outcomes = [o for o in OUTCOME_COLORS if o in set(data["outcome"])] + sorted(set(data["outcome"]) - set(OUTCOME_COLORS))
    colors = [OUTCOME_COLORS.get(o, "#9ca3af") for o in outcomes]
    return (
        alt.Chart(data, title="Decisions per day")
        .mark_bar()
        .encode(
            x=alt.X("day:O", title="Day (UTC)", axis=alt.Axis(labelAngle=0)),
            y=alt.Y("decisions:Q", title="Decisions", stack="zero"),
            color=alt.Color("outcome:N", title="Outcome", scale=alt.Scale(domain=outcomes, range=colors)),
            tooltip=["day:O", "outcome:N", "decisions:Q"],
        )
    )


def approval_rate_per_graph(frame: pd.DataFrame) -> alt.Chart:
    """Horizontal bars: share of decisions that approved (as is or edited), per graph."""
    data = approval_rates(frame)
    return (
        alt.Chart(data, title="Approval rate per graph")
        .mark_bar(color="#2563eb")
        .encode(
            x=alt.X("approval_rate:Q", title="Approved (incl. edited)", axis=alt.Axis(format="%"),
                    scale=alt.Scale(domain=[0, 1])),  # fmt: skip
            y=alt.Y("graph:N", title=None, sort="-x", axis=alt.Axis(labelLimit=160, labelOverlap=False)),
            tooltip=[
                alt.Tooltip("graph:N", title="Graph"),
                alt.Tooltip("approval_rate:Q", title="Approval rate", format=".0%"),
                alt.Tooltip("approved:Q", title="Approved"),
                alt.Tooltip("decisions:Q", title="Decisions"),
            ],
        )
    )


def waiting_unit(seconds: pd.Series) -> tuple[str, float]:
    """The unit that makes waiting times readable: minutes normally, seconds or hours at the ends."""
    longest = float(seconds.max()) if len(seconds) else 0.0
    if longest < 120:
        return "seconds", 1.0
    if longest < 48 * 3600:
        return "minutes", 60.0
    return "hours", 3600.0


def time_to_decision(frame: pd.DataFrame) -> alt.Chart:
    """Histogram of how long threads waited for their decision (in minutes, or seconds/hours
    when every wait is that short or long)."""
    waited = frame["waited_seconds"].dropna().astype(float)
    unit, size = waiting_unit(waited)
    data = pd.DataFrame({unit: waited / size})
    return (
        alt.Chart(data, title="Time to decision")
        .mark_bar(color="#7c3aed")
        .encode(
            x=alt.X(f"{unit}:Q", bin=alt.Bin(maxbins=20), title=f"{unit.capitalize()} waited"),
            y=alt.Y("count():Q", title="Decisions"),
            tooltip=[alt.Tooltip("count():Q", title="Decisions")],
        )
    )
