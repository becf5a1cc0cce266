"""Walk one real scheduler through a simulated span: `python drive_scheduler.py URL START END
STEP`. Run as a separate process by test_several_schedulers.py, several at once."""

from __future__ import annotations

import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from runyard.app import build_scheduler
from runyard.config import Settings


def main() -> None:
    url, start, end, step = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    with tempfile.TemporaryDirectory() as home:
        # Simulated time runs thousands of times faster than real time here, so a lock held
        # for a second by the other process looks like an hour-long outage. A day of grace
        # keeps every slot "on time": this test is about exactly-once, not about catch-up.
        settings = Settings(
            database_url=url,
            home=Path(home),
            secret_key="drive",
            schedule_misfire_grace_seconds=86_400,
        )
        scheduler, db = build_scheduler(settings)
        try:
            now = datetime.fromisoformat(start)
            stop = datetime.fromisoformat(end)
            while now <= stop:
                scheduler.tick(now)
                now += timedelta(seconds=step)
            scheduler.tick(stop)
        finally:
            db.dispose()


if __name__ == "__main__":
    main()
