"""The promise reads what its own process wrote at once, and never waits on the database for
what other processes wrote: it reads the index as it is while one catch-up runs."""

from __future__ import annotations

import asyncio
import threading
from typing import cast

from openoms.api.routes import promise as route
from openoms.services.sourcing_view import SourcingView


class Index:
    def __init__(self, *, stale: bool, age: float) -> None:
        self.marked_stale = stale
        self._age = age

    def due(self) -> bool:
        return True

    def age(self) -> float:
        return self._age


class View:
    def __init__(self, index: Index, *, behind: bool = False) -> None:
        self.index = index
        self.behind = behind
        self.refreshes = 0
        self.release = threading.Event()

    def refresh(self) -> None:
        self.refreshes += 1
        assert self.release.wait(10)


def test_a_read_due_by_age_only_starts_one_catch_up_and_does_not_wait() -> None:
    async def scenario() -> None:
        view = View(Index(stale=False, age=route.CATCH_UP_EVERY_S + 0.01))
        as_view = cast(SourcingView, view)
        await asyncio.wait_for(route._caught_up(as_view), 1)  # refresh blocks: not awaited
        await asyncio.wait_for(route._caught_up(as_view), 1)
        running = route._catching_up[id(view)]
        view.release.set()
        await running
        assert view.refreshes == 1
        await route._caught_up(as_view)  # the last one is done: a new one starts
        await route._catching_up[id(view)]
        assert view.refreshes == 2

    asyncio.run(scenario())


def test_this_process_s_own_write_a_late_index_or_a_network_not_taken_up_is_waited_for() -> None:
    async def scenario() -> None:
        views = [
            View(Index(stale=True, age=0.05)),
            View(Index(stale=False, age=route.LATE_S + 1)),
            View(Index(stale=False, age=0.0), behind=True),  # a new network, not yet taken up
        ]
        for view in views:
            view.release.set()
            await route._caught_up(cast(SourcingView, view))
            assert view.refreshes == 1
            assert id(view) not in route._catching_up

    asyncio.run(scenario())


def test_a_read_due_by_a_few_milliseconds_starts_no_catch_up() -> None:
    async def scenario() -> None:
        view = View(Index(stale=False, age=route.CATCH_UP_EVERY_S / 2))
        view.release.set()
        await route._caught_up(cast(SourcingView, view))
        assert view.refreshes == 0
        assert id(view) not in route._catching_up

    asyncio.run(scenario())
