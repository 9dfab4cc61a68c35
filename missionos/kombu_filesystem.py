"""kombu's filesystem transport (`make run`'s broker), with each message file written whole.

kombu 5.7's `_put` creates `<time>_<uuid>.<queue>.msg` and then writes into it, while a
consumer's `_get` moves every matching file away and reads it without taking the writer's
lock: a consumer that looks in between reads an empty file, and its JSON error kills the
worker (beat's 5-second feed polls made that a matter of minutes). Here a message is written
under a name no consumer matches, then renamed into place, which is atomic on one filesystem.
missionos.celery installs it as the `filesystem://` transport.
"""

from __future__ import annotations

import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        # `_get` takes only names whose part after the first dot is "<queue>.msg".
        partial = os.path.join(self.data_folder_out, f"{name}.partial")
        try:
            with open(partial, "wb") as file:
                file.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel
