"""Writing pulled Airtable records into MissionOS, in bulk, page by page.

Rules (the README's "Reconciling" section says the same for users):
- A record is keyed by (organization, source table id, record id). Each page is one query to
  find the rows it already has, then one bulk write (`sync.bulk.save_rows`: COPY on Postgres)
  for new and changed records. A record whose raw content and mapping are unchanged (same
  digest) is neither converted nor written.
- Links (objective -> pathway, task -> project, ...) are stored as Airtable record ids while
  pulling and resolved to rows after the whole pull, so the order of tables does not matter.
- A value that does not fit (wrong type, bad date, unknown status, link to a missing record,
  empty required field) never fails the run: the record is kept as well as it can be and the
  problem becomes a SyncIssue of the run with table, record, field and reason. Records that
  cannot be represented at all (a check-in without a value, a cycle without dates) are
  skipped, and that is an issue too.
- Airtable wins on synced fields when its record changes. If someone edited the same row in
  MissionOS since the last sync, the run records what it overwrote (an "overwrite" issue). A
  local edit to a record Airtable has not changed is left alone.
- Only a complete full pull archives: rows of the connection's tables that the pull did not
  see get `archived_at`; a row whose record comes back is unarchived. Nothing is hard-deleted.

Modules:
- `reconciler`: the `Reconciler` of one run (pages in, rows out, archiving).
- `adapters`: one adapter per entity (its model and where it differs), in `ADAPTERS`.
- `records`: one record read for its entity (`convert_record`) and its issues.
- `links`: links between rows, set while pulling and resolved once tables are complete.
"""
