"""The reconciler's entity adapters agree with the mapping catalogue: pure, no database."""

from __future__ import annotations

import pytest

from sync.mapping.catalogue import ENTITIES, LABEL_ATTRS
from sync.reconcile.adapters import ADAPTERS


def test_every_catalogue_entity_has_its_adapter():
    assert list(ADAPTERS) == list(ENTITIES)
    assert all(adapter.entity == entity for entity, adapter in ADAPTERS.items())


@pytest.mark.parametrize("entity", list(ENTITIES))
def test_every_synced_attribute_is_a_field_of_the_adapters_model(entity: str):
    adapter = ADAPTERS[entity]
    for name in ENTITIES[entity]:
        if name in adapter.virtual_attributes:
            continue
        adapter.model._meta.get_field(name)  # raises FieldDoesNotExist if it is not
    if entity in LABEL_ATTRS:
        adapter.model._meta.get_field(adapter.label)
