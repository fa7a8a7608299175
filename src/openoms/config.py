"""Settings from environment variables (prefix `OMS_`), with defaults for the embedded setup."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OMS_", extra="ignore")

    database_url: str = "sqlite:///var/oms.db"
    # How long a resolved API key is trusted before it is read again (revocation delay).
    key_cache_seconds: float = 10.0
    # How old an availability answer may be when another process wrote since (milliseconds);
    # this process's own writes always show at once. 0: every read checks the database.
    availability_max_staleness_ms: float = 25.0
    sql_echo: bool = False
    # Run the worker's timers (offer timeouts, backorder retries) inside the API process: the
    # embedded setup. Off when separate `oms worker` processes run them.
    run_worker: bool = True
    # Hoarding limits of e-reservations, per customer (e-mail), all stores together.
    reservation_max_open: int = 3
    reservation_max_units_per_sku: int = 4
    # Returns: accepted until this many days after delivery; a return by carrier costs the
    # customer this fee (minor units of the order's currency), taken off the refund.
    return_days: int = 30
    return_carrier_fee: int = 495
    # E-mail to customers (the pickup code), sent by the worker after the transaction that
    # owes it committed: OMS_SMTP_URL (smtp://user:password@host:port, smtps://, ?starttls=true)
    # or OMS_SMTP_HOST and OMS_SMTP_PORT. Neither: no mail is sent.
    smtp_url: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_starttls: bool = False
    mail_from: str = "openoms@localhost"
