"""The change feed through a real Celery worker process: the beat's tick queues one poll task
per active feed, and the worker's poll applies an edit made in Airtable. Needs Postgres and
Redis, like tests/sync/test_worker.py, whose worker helpers these are."""

from __future__ import annotations

import pytest

from okrs.models import Task
from sync import services
from sync.models import FeedState, RunKind
from sync.tasks import feed_poll_all
from tests.sync.airtable_base import BASE_ID, T_TASKS, TOKEN
from tests.sync.test_feed import QUICK, ROOT, hooks
from tests.sync.test_sync import sync
from tests.sync.test_worker import pytestmark as worker_marks
from tests.sync.test_worker import start_worker, wait_for, worker_env  # noqa: F401 (a fixture)

pytestmark = [
    *worker_marks,
    pytest.mark.skipif(
        not (ROOT / "devtools" / "fakeairtable" / "webhooks.py").exists(),
        reason="the fake Airtable has no webhooks yet",
    ),
]


def test_the_beats_tick_has_a_worker_apply_an_airtable_edit(worker_env, org):  # noqa: F811
    fake, ids, queue, env = worker_env
    env = {**env, "AIRTABLE_REQUESTS_PER_SECOND": "1000"}
    connection = services.connection_create(
        organization=org, name="Northwind", base_id=BASE_ID, token=TOKEN
    )  # no test transaction: the feed is set up as the connect commits
    assert len(hooks(fake)) == 1
    sync(connection, RunKind.FULL)
    assert services.feed_ensure(connection=connection, **QUICK).feed.state == FeedState.ACTIVE
    task_id = ids["tasks"][0]
    fake.bases[BASE_ID].table(T_TASKS).update(task_id, {"fldTNAME00000001": "Via the worker"})
    # The tick's poll tasks go to the default queue: this worker takes both.
    worker = start_worker(env, f"{queue},celery")
    try:
        feed_poll_all.apply_async(queue=queue)
        wait_for(
            lambda: Task.objects.for_org(org).filter(title="Via the worker").exists(),
            60,
            "the worker to apply the edit",
        )
    finally:
        worker.terminate()
        worker.wait(10)
    assert Task.objects.for_org(org).get(source_record_id=task_id).title == "Via the worker"
