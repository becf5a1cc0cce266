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
        settings = Settings(database_url=url, home=Path(home), secret_key="drive")
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
