"""The project's settings, as the tests run them: under pytest-xdist each process first gets a
Redis database of its own (tests/parallel.py). Nothing else differs."""

from tests.parallel import isolate_redis

isolate_redis()

from missionos.settings import *  # noqa: E402, F403
