"""MissionOS -> Airtable: the outbox of rows to write (`journal`), what changed since the two
last agreed (`state`), cells made back from values (`outbound`), conflicts (`conflicts`) and
the push that drains the outbox per base (`push`)."""
