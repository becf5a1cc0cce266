"""Catch-up after downtime: which due slots fire and which are recorded as missed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from runyard.domain.slot_policy import CatchUp, plan_slots

NOW = datetime(2026, 3, 1, 12, 0, 30, tzinfo=UTC)
GRACE = timedelta(seconds=60)
HOURS = [datetime(2026, 3, 1, h, 0, tzinfo=UTC) for h in range(8, 13)]  # 08:00 … 12:00


def test_a_slot_reached_on_time_fires_whatever_the_policy() -> None:
    for policy in CatchUp:
        plan = plan_slots([HOURS[-1]], NOW, policy, GRACE, 10)
        assert plan.fire == [HOURS[-1]]
        assert plan.missed == []


def test_skip_fires_none_of_the_missed_slots_and_records_each() -> None:
    plan = plan_slots(HOURS[:-1], NOW, CatchUp.SKIP, GRACE, 10)
    assert plan.fire == []
    assert [slot for slot, _ in plan.missed] == HOURS[:-1]
    assert all("skip" in reason for _, reason in plan.missed)


def test_latest_fires_only_the_most_recent_missed_slot() -> None:
    plan = plan_slots(HOURS[:-1], NOW, CatchUp.LATEST, GRACE, 10)
    assert plan.fire == [HOURS[-2]]
    assert [slot for slot, _ in plan.missed] == HOURS[:-2]


def test_latest_with_an_on_time_slot_fires_just_that_one() -> None:
    plan = plan_slots(HOURS, NOW, CatchUp.LATEST, GRACE, 10)
    assert plan.fire == [HOURS[-1]]
    assert [slot for slot, _ in plan.missed] == HOURS[:-1]


def test_all_fires_every_missed_slot_oldest_first() -> None:
    plan = plan_slots(HOURS, NOW, CatchUp.ALL, GRACE, 10)
    assert plan.fire == HOURS
    assert plan.missed == []


def test_all_is_capped_and_records_the_oldest_slots_it_drops() -> None:
    plan = plan_slots(HOURS, NOW, CatchUp.ALL, GRACE, 3)
    assert plan.fire == HOURS[2:]
    assert [slot for slot, _ in plan.missed] == HOURS[:2]
    assert "capped" in plan.missed[0][1]


def test_every_due_slot_is_either_fired_or_recorded() -> None:
    for policy in CatchUp:
        for limit in (1, 2, 10):
            plan = plan_slots(HOURS, NOW, policy, GRACE, limit)
            accounted = sorted(plan.fire + [slot for slot, _ in plan.missed])
            assert accounted == HOURS, (policy, limit)
