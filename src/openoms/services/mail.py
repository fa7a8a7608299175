"""The one narrow interface in front of e-mail: `Mailer.send(message)`, with the standard
library's `smtplib` behind it (`SmtpMailer`). Configured by `OMS_SMTP_URL`
(`smtp://user:password@host:port`, `smtps://` for TLS from the start, `?starttls=true` to
upgrade) or `OMS_SMTP_HOST` / `OMS_SMTP_PORT`; without either, no mail is sent (the messages
wait in the notifications table, and the events feed carries them anyway)."""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from openoms.config import Settings

TIMEOUT_SECONDS = 10.0


class Mailer(Protocol):
    @property
    def sender(self) -> str:
        """The From address."""

    def send(self, message: EmailMessage) -> None:
        """Deliver the message or raise (the relay tries again later)."""


@dataclass(frozen=True, slots=True)
class SmtpMailer:
    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = None
    tls: bool = False
    """TLS from the first byte (smtps, usually port 465)."""
    starttls: bool = False

    def send(self, message: EmailMessage) -> None:
        smtp_class = smtplib.SMTP_SSL if self.tls else smtplib.SMTP
        with smtp_class(self.host, self.port, timeout=TIMEOUT_SECONDS) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(message)


def mailer_from(settings: Settings) -> SmtpMailer | None:
    if settings.smtp_url:
        url = urlsplit(settings.smtp_url)
        if url.scheme not in ("smtp", "smtps") or not url.hostname:
            raise ValueError("OMS_SMTP_URL must look like smtp://[user:password@]host[:port]")
        query = parse_qs(url.query)
        tls = url.scheme == "smtps"
        return SmtpMailer(
            host=url.hostname,
            port=url.port or (465 if tls else 25),
            sender=settings.mail_from,
            username=unquote(url.username) if url.username else None,
            password=unquote(url.password) if url.password else None,
            tls=tls,
            starttls=query.get("starttls", ["false"])[0].lower() == "true",
        )
    if settings.smtp_host:
        return SmtpMailer(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.mail_from,
            starttls=settings.smtp_starttls,
        )
    return None
