"""The Stories page's chart: a story's timeline on a date axis, drawn with Altair (which ships with Streamlit).

One row per outlet holds its reports of the timeline's entries, a mark each, coloured by outlet; below them a
"moves" row shows each fact that moved as a bar from its earlier report to its later one, ending in a triangle,
and a "disagreements" row a diamond on the day two outlets disagree. Moves and disagreements have colours no
outlet gets. The tooltips hold the quotes as data: Vega's tooltip handler escapes them, and no mark is a link.

``chart_rows`` is a pure function of the ``Timeline`` (tested directly); ``timeline_chart`` draws it.
"""

from __future__ import annotations

from stories.types import Timeline

REPORT, MOVE, DISAGREEMENT = "report", "move", "disagreement"
MOVES_ROW, DISAGREEMENTS_ROW = "moves", "disagreements"
MOVE_COLOUR, DISAGREEMENT_COLOUR = "#f58518", "#e45756"  # Tableau orange and red: highlights, no outlet's
OUTLET_COLOURS = ["#4c78a8", "#54a24b", "#b279a2", "#72b7b2", "#9d755d", "#eeca3b", "#bab0ac", "#ff9da6"]
SHAPES = {REPORT: "circle", MOVE: "triangle-right", DISAGREEMENT: "diamond"}
TOOLTIP_CHARS = 160  # a tooltip shows the start of a quote; the whole quote is below the chart


def _short(text: str, limit: int = TOOLTIP_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + "…"


def chart_rows(timeline: Timeline) -> list[dict]:
    """The chart's data: one row per dated report of an entry, per move and per disagreement."""
    rows = []
    for entry in timeline.entries:
        for report in [entry.report, *entry.also]:
            if report.date:
                outlet = report.source or "unknown outlet"
                rows.append({"date": report.date, "start": report.date, "row": outlet, "label": outlet,
                             "kind": REPORT, "what": _short(report.quote)})
    for move in timeline.moves:
        if move.after.date:
            rows.append({"date": move.after.date, "start": move.before.date or move.after.date, "row": MOVES_ROW,
                         "label": MOVE, "kind": MOVE,
                         "what": f"{move.fact}: {move.before_value} -> {move.after_value}"})
    for d in timeline.disagreements:
        if d.first.date:
            rows.append({"date": d.first.date, "start": d.first.date, "row": DISAGREEMENTS_ROW,
                         "label": DISAGREEMENT, "kind": DISAGREEMENT,
                         "what": f"{d.fact}: {d.first_value} ({d.first.source or 'unknown outlet'}) vs "
                                 f"{d.second_value} ({d.second.source or 'unknown outlet'})"})
    return rows


def timeline_chart(timeline: Timeline):
    """The Altair chart of ``chart_rows``, or None when the timeline has nothing dated."""
    import altair as alt
    import pandas as pd

    rows = chart_rows(timeline)
    if not rows:
        return None
    outlets = sorted({r["row"] for r in rows if r["kind"] == REPORT}, key=str.lower)
    order = outlets + [row for row in (MOVES_ROW, DISAGREEMENTS_ROW) if any(r["row"] == row for r in rows)]
    labels = outlets + [MOVE, DISAGREEMENT]
    colours = [OUTLET_COLOURS[i % len(OUTLET_COLOURS)] for i in range(len(outlets))] + [MOVE_COLOUR,
                                                                                        DISAGREEMENT_COLOUR]
    # dates are ISO days: a UTC scale shows each on its own day in every browser's time zone
    x = alt.X("date:T", title=None, scale=alt.Scale(type="utc", padding=24),
              axis=alt.Axis(format="%b %d, %Y", labelAngle=0, tickCount="day"))
    y = alt.Y("row:N", sort=order, title=None, axis=alt.Axis(labelLimit=220))
    base = alt.Chart(pd.DataFrame(rows))
    spans = base.transform_filter(alt.datum.kind == MOVE).mark_rule(
        strokeWidth=4, opacity=0.5, color=MOVE_COLOUR).encode(x=alt.X("start:T", scale=alt.Scale(type="utc")),
                                                              x2="date:T", y=y)
    points = base.mark_point(filled=True, size=220, opacity=0.95).encode(
        x=x, y=y,
        color=alt.Color("label:N", scale=alt.Scale(domain=labels, range=colours),
                        legend=alt.Legend(title=None, orient="bottom", columns=4, labelLimit=260)),
        shape=alt.Shape("kind:N", scale=alt.Scale(domain=list(SHAPES), range=list(SHAPES.values())), legend=None),
        tooltip=[alt.Tooltip("date:N", title="date"), alt.Tooltip("row:N", title="row"),
                 alt.Tooltip("what:N", title="what")])
    # the padding keeps the outlets' labels and the last day's mark inside the frame Streamlit gives the chart
    return (spans + points).properties(height=max(140, 44 * len(order) + 60),
                                       padding={"left": 16, "right": 16, "top": 8, "bottom": 8})
