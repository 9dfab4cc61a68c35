"""Server-rendered line charts.

- `geometry`: pure drawing geometry (lines, ticks, labels, a "today" marker, a summary
  sentence) for `components/line_chart.html`; no ORM, no Django.
- `palette`: every colour the charts are drawn in, on screen and in print, by series key.
- `printed`: a chart laid out at a fixed width for the board report's PDF.
- `pages`: the charts the objective, pathway and project pages show, built from the series
  of `okrs.history` in the viewer's local time.
"""
