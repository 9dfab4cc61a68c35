"""Server-rendered line charts.

- `geometry`: pure drawing geometry (lines, ticks, labels, a "today" marker, a summary
  sentence) for `components/line_chart.html`; no ORM, no Django.
- `pages`: the charts the objective, pathway and project pages show, built from the series
  of `okrs.history` in the viewer's local time.
"""
