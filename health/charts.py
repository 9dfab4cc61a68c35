"""The score's trend, drawn with the dashboard's chart geometry."""

from __future__ import annotations

import datetime

from django.utils import timezone

from health.models import HealthSnapshot
from okrs.charts import geometry


def score_trend(
    snapshots: list[HealthSnapshot], *, now: datetime.datetime
) -> geometry.LineChart | None:
    if not snapshots:
        return None
    points = [(timezone.localtime(s.computed_at), s.score / 100) for s in snapshots]
    points.append((timezone.localtime(now), points[-1][1]))  # the score holds until now
    first = points[0][0].date()
    start = min(first, timezone.localdate(now) - datetime.timedelta(days=6))
    end = timezone.localdate(now) + datetime.timedelta(days=1)
    return geometry.line_chart(
        [geometry.Series("Score", points, key="score")],
        start=start,
        end=end,
        today=timezone.localtime(now),
        title="Data health score over time",
    )
