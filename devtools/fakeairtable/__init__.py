"""A fake Airtable Web API server for tests, benchmarks and the demo (standard library only).

It speaks the real HTTP protocol, so the real pyairtable client (or any HTTP client) talks to it
through ``Api(token, endpoint_url=fake.url)``. See ``server.py`` for the routes and the order of
checks, ``model.py`` for the data model and the JSON fixture format, ``formula.py`` for the
``filterByFormula`` subset. ``python -m devtools.fakeairtable --help`` serves a JSON base.
"""

from .formula import FormulaError, compile_formula
from .model import FakeAirtableModel, FakeBase, FakeRecord, FakeTable, is_empty, ms_to_iso, to_ms
from .server import FAULT_KINDS, FakeAirtable, Faults, LoggedRequest

__all__ = [
    "FAULT_KINDS",
    "FakeAirtable",
    "FakeAirtableModel",
    "FakeBase",
    "FakeRecord",
    "FakeTable",
    "Faults",
    "FormulaError",
    "LoggedRequest",
    "compile_formula",
    "is_empty",
    "ms_to_iso",
    "to_ms",
]
