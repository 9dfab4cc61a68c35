"""Which Airtable tables and fields feed which MissionOS entities and attributes.

Pure Python: no ORM, no network. The sync's services, commands and the mapping page build on it.
One job per module; import from the module that holds what you need:

- `catalogue`: what MissionOS can map (`ENTITIES` of `Attr`, the table names that propose each).
- `names`: comparing names and values as people type them (`normalize_name`, `match_choice`).
- `field_types`: which Airtable field types can hold which kinds of attribute.
- `document`: the `Mapping` itself and its stored JSON form (`to_dict`, `from_dict`,
  `MappingError`).
- `propose`: the mapping proposal for a base, for a person to review (`propose_mapping`).
- `check`: what stops a run, each problem a sentence saying what to fix (`check_mapping`).
- `describe`: a mapping in words, for people (`describe`).
"""
