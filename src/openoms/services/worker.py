"""The worker loop: `run_due` (and the mail relay, when a mailer is set) every second until
stopped. `oms worker` runs it in the foreground; `oms serve` runs it in a thread of the API
process (`OMS_RUN_WORKER`), the embedded setup. Several workers over one PostgreSQL share the
jobs safely (services/timers.py)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from openoms.db.uow import Database
from openoms.services.notifications import send_due
from openoms.services.timers import Timers, run_due

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0


def utcnow() -> datetime:
    return datetime.now(UTC)


def run_worker(
    db: Database,
    timers: Timers,
    stop: threading.Event,
    *,
    clock: Callable[[], datetime] = utcnow,
    poll: float = POLL_SECONDS,
) -> None:
    """Until `stop` is set: the due jobs, then a pause unless a full batch ran."""
    while not stop.is_set():
        try:
            ran = run_due(db, timers, clock())
            if timers.mailer is not None:
                ran += send_due(db, timers.mailer, clock())
        except Exception:  # a database gone for a moment: try again at the next poll
            log.exception("worker: running due jobs failed")
            ran = 0
        if not ran:
            stop.wait(poll)


def start_worker_thread(db: Database, timers: Timers) -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    thread = threading.Thread(
        target=run_worker, args=(db, timers, stop), name="oms-worker", daemon=True
    )
    thread.start()
    return thread, stop
