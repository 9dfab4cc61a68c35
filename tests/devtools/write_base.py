"""A base whose fields cover what writes and webhooks must handle, and client helpers."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pyairtable
from pyairtable.models import WebhookPayload

from devtools.fakeairtable import FakeAirtable, FakeTable

BASE = "appWriteBase00001"
OTHER_BASE = "appOtherBase00001"
TABLE = "tblObjectives0001"
PEOPLE = "tblPeople00000001"
TOKEN = "patWriter"
NAME, STATUS, TAGS, DONE, SCORE, DUE, AT, OWNER, LINKS, CALC, LEAD = (
    "fldName0000000001",
    "fldStatus00000001",
    "fldTags0000000001",
    "fldDone0000000001",
    "fldScore000000001",
    "fldDue00000000001",
    "fldAt000000000001",
    "fldOwner000000001",
    "fldLinks000000001",
    "fldCalc0000000001",
    "fldLead0000000001",
)
PERSON_NAME = "fldPersonName0001"
CHOICES = [
    {"id": "selTodo", "name": "Todo", "color": "grayLight2"},
    {"id": "selDone", "name": "Done", "color": "greenLight2"},
]
FIELDS = [
    {"id": NAME, "name": "Name", "type": "singleLineText"},
    {"id": STATUS, "name": "Status", "type": "singleSelect", "options": {"choices": CHOICES}},
    {"id": TAGS, "name": "Tags", "type": "multipleSelects", "options": {"choices": []}},
    {"id": DONE, "name": "Done", "type": "checkbox", "options": {"icon": "check"}},
    {"id": SCORE, "name": "Score", "type": "number", "options": {"precision": 1}},
    {"id": DUE, "name": "Due", "type": "date", "options": {"dateFormat": {"name": "iso"}}},
    {"id": AT, "name": "At", "type": "dateTime"},
    {"id": OWNER, "name": "Owner", "type": "someTypeFromTheFuture"},
    {
        "id": LINKS,
        "name": "Depends on",
        "type": "multipleRecordLinks",
        "options": {"linkedTableId": TABLE, "isReversed": False},
    },
    {"id": CALC, "name": "Calc", "type": "formula", "options": {"formula": "{Score}*2"}},
    {
        "id": LEAD,
        "name": "Lead",
        "type": "multipleRecordLinks",
        "options": {"linkedTableId": PEOPLE},
    },
]


class ManualClock:
    """A clock the test moves by hand (model time in epoch seconds, or a monotonic one)."""

    def __init__(self, now: float = 1_717_200_000.0) -> None:  # 2024-06-01T00:00:00Z
        self.now = now

    def __call__(self) -> float:
        return self.now


def build(fake: FakeAirtable) -> FakeTable:
    base = fake.add_base(BASE, "Plans", tokens={TOKEN})
    fake.add_base(OTHER_BASE, "Someone else's", tokens={"patOther"})
    table = base.add_table(TABLE, "Objectives", FIELDS)
    base.add_table(PEOPLE, "People", [{"id": PERSON_NAME, "name": "Name"}])
    return table


def client(fake: FakeAirtable, token: str = TOKEN, **kwargs) -> pyairtable.Api:
    kwargs.setdefault("retry_strategy", False)
    kwargs.setdefault("timeout", (2, 2))
    return pyairtable.Api(token, endpoint_url=fake.url, **kwargs)


def error_of(excinfo) -> tuple[int, dict]:
    response = excinfo.value.response
    return response.status_code, response.json()


def spec(*data_types: str, includes: dict | None = None, **filters) -> dict:
    options: dict = {"filters": {"dataTypes": list(data_types), **filters}}
    if includes is not None:
        options["includes"] = includes
    return {"options": options}


def payloads(fake, hook_id: str, cursor: int = 1) -> list[WebhookPayload]:
    return list(client(fake).base(BASE).webhook(hook_id).payloads(cursor=cursor))


class Receiver:
    """A tiny HTTP server on 127.0.0.1 that records the pings it gets."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.pings: list[tuple[str, str]] = []  # (body, X-Airtable-Content-MAC)
        self.release = threading.Event()
        self.release.set()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                receiver.pings.append((body, self.headers["X-Airtable-Content-MAC"]))
                receiver.release.wait(10)
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/airtable"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
