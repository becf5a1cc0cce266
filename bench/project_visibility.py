"""What sharing costs a project listing: 10,000 projects, of which a member sees a few
hundred through their own grants, their groups, collections and the workspace.

For SQLite and PostgreSQL it prints the median time of a first page (25) of ListProjects for
an admin (no filter) and for a member (visibility filtered in SQL), of paging through all a
member's visible projects, and of one project's access check (GetProject). The baseline,
measured in the same run on the same data, is filtering in Python instead: load every
project and ask each one's access.

    .venv/bin/python bench/project_visibility.py [--projects 10000]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from figures import Figure, record
from runyard.domain.access import AccessLevel
from runyard.domain.permissions import Actor, Role, TokenType
from runyard.services.project_access import access_to
from runyard.services.projects import ProjectService
from runyard.store.collections import (
    CollectionProjectRow,
    CollectionRow,
    CollectionUserAccessRow,
)
from runyard.store.db import Database, upgrade
from runyard.store.groups import GroupMemberRow, GroupRow
from runyard.store.identity import UserRow
from runyard.store.project_sharing import ProjectGroupAccessRow, ProjectUserAccessRow
from runyard.store.projects import ProjectFilter, ProjectRow
from scheduler_capacity import PG_ADMIN, postgres_store, sqlite_store

LEVELS = [AccessLevel.APP_ONLY, AccessLevel.CAN_VIEW, AccessLevel.CAN_EDIT]


def seed(db: Database, total: int) -> tuple[Actor, Actor, str]:
    """Projects of 50 owners; 200 groups; 100 collections; grants spread at random (fixed
    seed). Returns an admin, the member whose view is measured, and a project they see."""
    rng = random.Random(7)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with db.write() as s:
        users = [
            UserRow(id=str(uuid.uuid4()), email=f"u{i}@x.test", role="EDITOR", created_at=now)
            for i in range(50)
        ]
        admin = UserRow(id=str(uuid.uuid4()), email="admin@x.test", role="ADMIN", created_at=now)
        member = UserRow(id=str(uuid.uuid4()), email="m@x.test", role="MEMBER", created_at=now)
        s.add_all([*users, admin, member])
        groups = [GroupRow(id=str(uuid.uuid4()), name=f"g{i}", created_at=now) for i in range(200)]
        s.add_all(groups)
        s.flush()
        member_groups = rng.sample(groups, 5)
        s.add_all(
            GroupMemberRow(group_id=g.id, user_id=member.id, added_at=now) for g in member_groups
        )
        projects = []
        for i in range(total):
            owner = users[i % len(users)]
            at = now + timedelta(minutes=i)
            projects.append(
                ProjectRow(
                    id=str(uuid.uuid4()),
                    title=f"p{i}",
                    type="PROJECT",
                    creator_id=owner.id,
                    owner_id=owner.id,
                    created_at=at,
                    last_edited_at=at,
                    # One project in a hundred is open to the whole workspace.
                    workspace_access="APP_ONLY" if i % 100 == 0 else None,
                )
            )
        s.add_all(projects)
        s.flush()
        # 2,000 user grants (100 of them to the member), 2,000 group grants.
        others = [*users]
        user_grants = {(p.id, rng.choice(others).id) for p in rng.sample(projects, 1900)}
        user_grants |= {(p.id, member.id) for p in rng.sample(projects, 100)}
        s.add_all(
            ProjectUserAccessRow(project_id=p, user_id=u, access=rng.choice(LEVELS).value)
            for p, u in user_grants
        )
        group_grants = {(p.id, rng.choice(groups).id) for p in rng.sample(projects, 2000)}
        s.add_all(
            ProjectGroupAccessRow(project_id=p, group_id=g, access=rng.choice(LEVELS).value)
            for p, g in group_grants
        )
        collections = [
            CollectionRow(id=str(uuid.uuid4()), name=f"c{i}", created_at=now) for i in range(100)
        ]
        s.add_all(collections)
        s.flush()
        s.add_all(
            CollectionUserAccessRow(collection_id=c.id, user_id=member.id, access="CAN_VIEW")
            for c in collections[:3]
        )
        in_collections = {(c.id, p.id) for c in collections for p in rng.sample(projects, 50)}
        s.add_all(
            CollectionProjectRow(collection_id=c, project_id=p, access="APP_ONLY", added_at=now)
            for c, p in in_collections
        )
        seen = next(p for p, u in user_grants if u == member.id)
    as_actor = lambda row, role: Actor(row.id, row.email, role, None, TokenType.PERSONAL)  # noqa: E731
    return as_actor(admin, Role.ADMIN), as_actor(member, Role.MEMBER), seen


def median_ms(action: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def all_pages(projects: ProjectService, actor: Actor) -> int:
    count, after = 0, None
    while True:
        page = projects.list(actor, ProjectFilter(), after=after, limit=100)
        count += len(page.values)
        after = page.after
        if not after:
            return count


def filtered_in_python(db: Database, actor: Actor) -> int:
    """The baseline: every project loaded, each one's access asked."""
    with db.read() as s:
        rows = s.scalars(sa.select(ProjectRow).order_by(ProjectRow.created_at.desc()))
        return sum(1 for row in rows if access_to(s, actor, row) is not AccessLevel.NONE)


def bench(label: str, url: str, total: int) -> None:
    upgrade(url)
    db = Database(url)
    try:
        admin, member, seen = seed(db, total)
        projects = ProjectService(db, lambda: datetime.now(UTC), 10_000_000)
        visible = all_pages(projects, member)
        assert visible == filtered_in_python(db, member), "SQL and Python disagree"
        figures = {
            "first page, admin (no filter)": median_ms(
                lambda: projects.list(admin, ProjectFilter()), 20
            ),
            "first page, member (filtered in SQL)": median_ms(
                lambda: projects.list(member, ProjectFilter()), 20
            ),
            f"all {visible} visible projects, member, pages of 100": median_ms(
                lambda: all_pages(projects, member), 5
            ),
            "one project's access check (GetProject)": median_ms(
                lambda: projects.get(member, seen), 50
            ),
            "baseline: every project's access asked in Python": median_ms(
                lambda: filtered_in_python(db, member), 3
            ),
        }
    finally:
        db.dispose()
    print(f"\n{label}: {total:,} projects; the member sees {visible}")
    for name, ms in figures.items():
        print(f"  {name:<58} {ms:9.1f} ms")
    ratio = (
        figures["baseline: every project's access asked in Python"]
        / figures[f"all {visible} visible projects, member, pages of 100"]
    )
    print(f"  listing everything visible is {ratio:.0f}x faster than the baseline")
    record(
        Figure(
            key="",
            what=f"list all {visible} visible of {total:,} projects, {label}",
            value=figures[f"all {visible} visible projects, member, pages of 100"],
            unit="ms",
            baseline=figures["baseline: every project's access asked in Python"],
            baseline_what="access asked in Python",
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--projects", type=int, default=10_000)
    args = parser.parse_args()
    with sqlite_store() as url:
        bench("SQLite", url, args.projects)
    try:
        with postgres_store() as url:
            bench("PostgreSQL", url, args.projects)
    except sa.exc.OperationalError as error:
        print(f"\nPostgreSQL skipped: not reachable at {PG_ADMIN} ({error.orig})", file=sys.stderr)


if __name__ == "__main__":
    main()
