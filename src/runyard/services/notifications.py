"""Run notifications: check them at trigger time, deliver them once the run has ended.

Delivery goes through the outbox in `store/notifications.py`, driven by the scheduler's
upkeep tick: ended runs' plans are expanded into one delivery per recipient (users and group
members by email, Slack channels by id), then due deliveries are claimed with a
compare-and-set and sent, retried with a doubling backoff, and given up after a few attempts.
Any number of processes may run this at once; a recipient is sent one message per run unless
a process dies between sending and recording it (then it is sent again after the claim's
lease: at least once, almost always exactly once).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from runyard import metrics
from runyard.domain.run_page import run_page_path
from runyard.domain.run_status import RunStatus
from runyard.errors import Unprocessable
from runyard.kernel.artifacts import MEDIA_TYPES
from runyard.notify.base import Attachment, Channel, DeliveryFailed, Message
from runyard.services.run_pages import page_of
from runyard.store import groups as group_store
from runyard.store import identity as identity_store
from runyard.store import notifications as store
from runyard.store import projects as project_store
from runyard.store import runs as run_store
from runyard.store.db import Database
from runyard.store.runs import RunRow

log = logging.getLogger(__name__)

EMAIL = "email"
SLACK = "slack"


@dataclass(frozen=True)
class DeliveryLimits:
    batch_size: int = 100
    max_attempts: int = 5
    first_retry_seconds: float = 30.0
    # How long a claim lasts; a process that dies mid-send leaves the delivery due after it.
    claim_seconds: float = 300.0


@dataclass(frozen=True)
class DeliveryReport:
    expanded: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0

    @property
    def found_work(self) -> bool:
        return bool(self.expanded or self.sent or self.retried or self.failed)


def wants(notification_type: str, status: RunStatus) -> bool:
    """Whether a notification of `notification_type` is due for a run that ended `status`.

    FAILURE means any ending but COMPLETED: ERRORED, KILLED and UNABLE_TO_ALLOCATE_KERNEL.
    """
    if notification_type == "ALL":
        return True
    if notification_type == "SUCCESS":
        return status is RunStatus.COMPLETED
    return status is not RunStatus.COMPLETED


class NotificationService:
    def __init__(
        self,
        db: Database,
        clock: Callable[[], datetime],
        channels: Mapping[str, Channel],
        public_url: str,
        limits: DeliveryLimits | None = None,
    ) -> None:
        """`channels` holds the configured ones by name (`email`, `slack`)."""
        self._db = db
        self._clock = clock
        self._channels = dict(channels)
        self._public_url = public_url
        self._limits = limits or DeliveryLimits()

    # -- at trigger time -------------------------------------------------------------------

    def recipients_of(self, notifications: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Hex's ProjectRunNotificationRecipient list for a trigger's `notifications`, or
        Unprocessable naming the field of the first one that cannot be delivered."""
        recipients: list[dict[str, Any]] = []
        with self._db.read() as session:
            for index, notification in enumerate(notifications):
                recipients += self._recipients_of_one(session, index, notification)
        return recipients

    def _recipients_of_one(
        self, session: Session, index: int, notification: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        field = f"notifications[{index}]"
        user_ids = list(dict.fromkeys(notification.get("userIds") or []))
        group_ids = list(dict.fromkeys(notification.get("groupIds") or []))
        slack_ids = list(dict.fromkeys(notification.get("slackChannelIds") or []))
        for name, ids in (("userIds", user_ids), ("groupIds", group_ids)):
            if ids and EMAIL not in self._channels:
                raise _refused(
                    f"{field}.{name}: email notifications are not configured on this server "
                    "(RUNYARD_SMTP_HOST is not set)"
                )
        if slack_ids and SLACK not in self._channels:
            raise _refused(
                f"{field}.slackChannelIds: Slack notifications are not configured on this "
                "server (RUNYARD_SLACK_BOT_TOKEN is not set)"
            )
        found: list[tuple[str, str, str]] = []  # (recipientType, id, name)
        unknown_users = []
        for user_id in user_ids:
            user = identity_store.get_user(session, user_id)
            if user is None or user.deactivated_at is not None:
                unknown_users.append(user_id)
            else:
                found.append(("USER", user.id, user.name or user.email))
        if unknown_users:
            raise _refused(f"{field}.userIds: no active user(s) {', '.join(unknown_users)}")
        unknown_groups = []
        for group_id in group_ids:
            group = group_store.get_group(session, group_id)
            if group is None:
                unknown_groups.append(group_id)
            else:
                found.append(("GROUP", group.id, group.name))
        if unknown_groups:
            raise _refused(f"{field}.groupIds: no group(s) {', '.join(unknown_groups)}")
        found += [("SLACK_CHANNEL", channel_id, channel_id) for channel_id in slack_ids]
        shared: dict[str, Any] = {
            "type": notification["type"],
            "includeSuccessScreenshot": bool(notification.get("includeSuccessScreenshot")),
        }
        for key in ("subject", "body"):
            if notification.get(key) is not None:
                shared[key] = notification[key]
        if notification.get("screenshotFormat"):
            formats = notification["screenshotFormat"]
            shared["screenshotFormat"] = formats if isinstance(formats, list) else [formats]
        return [
            {
                **shared,
                "recipientType": kind,
                "recipient": {"id": ident, "name": name},
            }
            for kind, ident, name in found
        ]

    # -- upkeep ----------------------------------------------------------------------------

    def deliver_due(self, now: datetime | None = None) -> DeliveryReport:
        """Expand the plans of runs that have ended, then send what is due."""
        now = now or self._clock()
        expanded = self._expand(now)
        sent = retried = failed = 0
        for claimed in self._claim(now):
            outcome = self._attempt(claimed, now)
            sent += outcome == store.SENT
            retried += outcome == store.PENDING
            failed += outcome == store.FAILED
        for outcome, count in (("sent", sent), ("retried", retried), ("failed", failed)):
            if count:
                metrics.NOTIFICATION_ATTEMPTS.labels(outcome).inc(count)
        return DeliveryReport(expanded=expanded, sent=sent, retried=retried, failed=failed)

    def _expand(self, now: datetime) -> int:
        expanded = 0
        with self._db.write() as session:
            for run in store.runs_to_expand(session, self._limits.batch_size):
                if not store.mark_expanded(session, run.id, now):
                    continue  # another process expanded it first
                rows = self._deliveries_of(session, run, now)
                store.insert_deliveries(session, rows)
                expanded += 1
        return expanded

    def _deliveries_of(self, session: Session, run: RunRow, now: datetime) -> list[dict[str, Any]]:
        status = RunStatus(run.status)
        wanted: dict[tuple[str, str], int] = {}  # (channel, recipient) -> notification index
        for index, notification in enumerate(run.options.get("notifications") or []):
            if not wants(notification.get("type", ""), status):
                continue
            addresses = [
                _active_email(session, user_id) for user_id in notification.get("userIds") or []
            ]
            for group_id in notification.get("groupIds") or []:
                addresses += [
                    _active_email(session, user_id)
                    for user_id in group_store.member_ids(session, group_id)
                ]
            for address in addresses:
                if address is not None:
                    wanted.setdefault((EMAIL, address.lower()), index)
            for channel_id in notification.get("slackChannelIds") or []:
                wanted.setdefault((SLACK, channel_id), index)
        return [
            {
                "run_id": run.id,
                "channel": channel,
                "recipient": recipient,
                "notification_index": index,
                "status": store.PENDING,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for (channel, recipient), index in wanted.items()
        ]

    def _claim(self, now: datetime) -> list[tuple[int, int, str, str, str, int]]:
        until = now + timedelta(seconds=self._limits.claim_seconds)
        claimed = []
        with self._db.write() as session:
            for row in store.due_deliveries(session, now, self._limits.batch_size):
                if store.claim(session, row, now, until):
                    claimed.append(
                        (
                            row.id,
                            row.attempts + 1,
                            row.run_id,
                            row.channel,
                            row.recipient,
                            row.notification_index,
                        )
                    )
        return claimed

    def _attempt(self, claimed: tuple[int, int, str, str, str, int], now: datetime) -> str:
        delivery_id, attempts, run_id, channel_name, recipient, index = claimed
        channel = self._channels.get(channel_name)
        try:
            if channel is None:
                raise DeliveryFailed(f"the {channel_name} channel is no longer configured")
            channel.send(recipient, self._message(run_id, index, with_files=channel_name == EMAIL))
        except DeliveryFailed as error:
            return self._record_failure(delivery_id, attempts, str(error), now)
        except Exception as error:
            # A channel bug must not stop the other deliveries or the scheduler's tick; it
            # counts as a failed attempt and is retried like any other.
            log.exception("notification %d to %s failed", delivery_id, channel_name)
            return self._record_failure(delivery_id, attempts, type(error).__name__, now)
        with self._db.write() as session:
            store.finish(session, delivery_id, attempts, status=store.SENT, sent_at=now)
        return store.SENT

    def _record_failure(self, delivery_id: int, attempts: int, reason: str, now: datetime) -> str:
        if attempts >= self._limits.max_attempts:
            outcome, due = store.FAILED, now
            log.warning(
                "notification %d failed for good after %d attempts: %s",
                delivery_id,
                attempts,
                reason,
            )
        else:
            backoff = self._limits.first_retry_seconds * 2 ** (attempts - 1)
            outcome, due = store.PENDING, now + timedelta(seconds=backoff)
            log.info(
                "notification %d failed (attempt %d), retrying: %s", delivery_id, attempts, reason
            )
        with self._db.write() as session:
            store.finish(
                session,
                delivery_id,
                attempts,
                status=outcome,
                next_attempt_at=due,
                last_error=reason[:1000],
            )
        return outcome

    def _message(self, run_id: str, index: int, *, with_files: bool) -> Message:
        with self._db.read() as session:
            run = run_store.get_run(session, run_id)
            assert run is not None  # deliveries are deleted with their run
            project = project_store.get_project(session, run.project_id)
            notification = (run.options.get("notifications") or [])[index]
            status = RunStatus(run.status)
            attachments: tuple[Attachment, ...] = ()
            if (
                with_files
                and status is RunStatus.COMPLETED
                and notification.get("includeSuccessScreenshot")
            ):
                app = page_of(session, run.id, "app")
                if app is not None:
                    attachments = (Attachment(f"run-{run.id}.html", MEDIA_TYPES["app"], app),)
        title = project.title if project is not None else run.project_id
        return Message(
            subject=notification.get("subject") or f"[Runyard] {title}: run {status.value}",
            text=_text(run, title, self._public_url, notification.get("body")),
            attachments=attachments,
        )


def checked_recipients(
    service: NotificationService | None, notifications: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The recipients of `notifications` (see `NotificationService.recipients_of`), for a
    run trigger and a schedule alike. Without a notification service, a notification that
    names anyone is refused; empty ones (what many Hex clients send) are fine."""
    if service is not None:
        return service.recipients_of(notifications)
    asked = [n for n in notifications if n.get("userIds") or n.get("groupIds")]
    asked += [n for n in notifications if n.get("slackChannelIds")]
    if asked:
        raise Unprocessable(
            "Cannot notify: notifications are not configured on this server",
            issues=["notifications: no notification channel is configured"],
        )
    return []


def _text(run: RunRow, title: str, public_url: str, body: str | None) -> str:
    lines = [body, ""] if body else []
    lines += [
        f"Project: {title}",
        f"Run: {run.id}",
        f"Status: {run.status}",
    ]
    if run.ended_at is not None:
        seconds = max((run.ended_at - run.created_at).total_seconds(), 0.0)
        lines.append(f"Duration: {seconds:.1f}s")
    if run.error and run.error.get("message"):
        lines.append(f"Error: {run.error['message']}")
    lines.append(f"Run page: {public_url}{run_page_path(run.project_id, run.id)}")
    return "\n".join(lines) + "\n"


def _active_email(session: Session, user_id: str) -> str | None:
    user = identity_store.get_user(session, user_id)
    return user.email if user is not None and user.deactivated_at is None else None


def _refused(issue: str) -> Unprocessable:
    return Unprocessable(f"Cannot notify: {issue}", issues=[issue])
