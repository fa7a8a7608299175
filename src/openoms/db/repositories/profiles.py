"""Sourcing profile versions: each row one version, its document as it was saved."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select

from openoms.db.tables import profile_versions
from openoms.domain.profiles import (
    CriteriaRegistry,
    ProfileHistory,
    ProfileVersion,
    VersionState,
    parse_profile,
    profile_to_data,
)

_v = profile_versions.c


def history(conn: Connection, code: str, criteria: CriteriaRegistry) -> ProfileHistory:
    rows = conn.execute(select(profile_versions).where(_v.code == code).order_by(_v.number)).all()
    return ProfileHistory(
        code,
        tuple(
            ProfileVersion(
                row.number,
                parse_profile(row.document, criteria),
                VersionState(row.state),
                row.publish_at,
            )
            for row in rows
        ),
    )


def codes_for(conn: Connection, channel: str, delivery_method: str) -> list[str]:
    query = (
        select(_v.code)
        .where(_v.channel == channel, _v.delivery_method == delivery_method)
        .distinct()
        .order_by(_v.code)
    )
    return list(conn.execute(query).scalars())


def insert(conn: Connection, version: ProfileVersion, now: datetime) -> None:
    profile = version.profile
    conn.execute(
        profile_versions.insert().values(
            code=profile.code,
            number=version.number,
            channel=profile.channel,
            delivery_method=profile.delivery_method.value,
            state=version.state.value,
            publish_at=version.publish_at,
            document=profile_to_data(profile),
            created_at=now,
        )
    )


def save_state(conn: Connection, code: str, version: ProfileVersion) -> None:
    conn.execute(
        profile_versions.update()
        .where(_v.code == code, _v.number == version.number)
        .values(state=version.state.value, publish_at=version.publish_at)
    )
