"""The relay that sends what customers are owed, after the transaction that owed it committed.

`owe` writes the message in the caller's transaction (so it exists exactly when the change
that owes it does); `send_due` leases due messages in a short transaction, sends each through
the `Mailer` with no transaction open (an SMTP round trip never holds a database lock), then
marks it sent, or puts it back with an exponential backoff. A crash between the send and the
mark sends it once more: at least once, never lost.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import Connection
from uuid6 import uuid7

from openoms.db.repositories import notifications as repo
from openoms.db.uow import Database
from openoms.services.mail import Mailer

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
BATCH = 20


def owe(
    conn: Connection, *, order_id: str, recipient: str, subject: str, body: str, now: datetime
) -> None:
    repo.add(conn, order_id=order_id, recipient=recipient, subject=subject, body=body, now=now)


def send_due(db: Database, mailer: Mailer, now: datetime, *, limit: int = BATCH) -> int:
    """Send the messages due at `now`; how many were tried."""
    token = str(uuid7())
    with db.write() as uow:
        leased = repo.lease(uow.conn, now, now + LEASE, token, limit)
        uow.commit()
    for row in leased:
        message = EmailMessage()
        message["From"] = mailer.sender
        message["To"] = row.recipient
        message["Subject"] = row.subject
        message.set_content(row.body)
        try:
            mailer.send(message)
        except Exception as error:
            log.warning("notification %s to %s failed: %s", row.id, row.recipient, error)
            backoff = timedelta(seconds=min(2 ** (row.attempts + 1) * 30, 6 * 3600))
            with db.write() as uow:
                repo.failed(uow.conn, row.id, token, now + backoff, repr(error))
                uow.commit()
            continue
        with db.write() as uow:
            repo.sent(uow.conn, row.id, token, now)
            uow.commit()
    return len(leased)
