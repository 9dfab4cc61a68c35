"""A fake Airtable Web API server for tests, benchmarks and the demo (standard library only).

It speaks the real HTTP protocol, so the real pyairtable client (or any HTTP client) talks to it
through ``Api(token, endpoint_url=fake.url)``. See ``server.py`` for the routes and the order of
checks, ``model.py`` for the data model and the JSON fixture format, ``formula.py`` for the
``filterByFormula`` subset, ``writes.py`` for record and field writes, ``webhooks.py`` for
webhooks and their pings. ``python -m devtools.fakeairtable --help`` serves a JSON base.
"""

from .errors import ApiError
from .formula import FormulaError, compile_formula
from .model import (
    ALL_SCOPES,
    FakeAirtableModel,
    FakeBase,
    FakeRecord,
    FakeTable,
    is_empty,
    ms_to_iso,
    to_ms,
)
from .server import (
    AFTER_FAULT_KINDS,
    ALL_FAULT_KINDS,
    FAULT_KINDS,
    FakeAirtable,
    Faults,
    LoggedRequest,
)
from .webhooks import FakeWebhook, WebhookHub

__all__ = [
    "AFTER_FAULT_KINDS",
    "ALL_FAULT_KINDS",
    "ALL_SCOPES",
    "FAULT_KINDS",
    "ApiError",
    "FakeAirtable",
    "FakeAirtableModel",
    "FakeBase",
    "FakeRecord",
    "FakeTable",
    "FakeWebhook",
    "Faults",
    "FormulaError",
    "LoggedRequest",
    "WebhookHub",
    "compile_formula",
    "is_empty",
    "ms_to_iso",
    "to_ms",
]
