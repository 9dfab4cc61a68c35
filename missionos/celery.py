import os

from celery import Celery
from kombu.transport import TRANSPORT_ALIASES

# `filesystem://` (make run's broker) with whole message files: kombu's own lets a worker
# read a message before it is written, and die of it (missionos/kombu_filesystem.py).
TRANSPORT_ALIASES["filesystem"] = "missionos.kombu_filesystem:Transport"

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "missionos.settings")

app = Celery("missionos")
# The app of every thread, not only of the one that imported this: under ASGI a view runs in a
# thread of its own, where `celery.current_app` would otherwise be a default app on amqp://.
app.set_default()
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
