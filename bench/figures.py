"""The headline figures of each bench, gathered into the one table `make bench` prints.

A bench run on its own prints its own detailed figures and nothing more. Run by
`bench/all.py`, which sets RUNYARD_BENCH_FIGURES to a file, each bench also appends its
headline figures there (one JSON object per line), and `all.py` prints them side by side:
what was measured, Runyard's figure, the baseline measured in the same run, their ratio,
and the target with whether this run met it.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

FIGURES_FILE = "RUNYARD_BENCH_FIGURES"


@dataclass(frozen=True)
class Figure:
    key: str  # e.g. "P1", the name for the target; "" when it has none
    what: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_what: str = ""
    target: str = ""  # in words, e.g. "<= 0.1 x papermill"
    met: bool | None = None  # None: no target, or not measurable in this run

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or self.baseline == 0:
            return None
        return self.value / self.baseline


def record(figure: Figure) -> None:
    """Append `figure` to the file `all.py` gathers, if one is being gathered."""
    path = os.environ.get(FIGURES_FILE)
    if not path:
        return
    with Path(path).open("a", encoding="utf-8") as out:
        out.write(json.dumps(asdict(figure)) + "\n")


def read(path: Path) -> list[Figure]:
    if not path.exists():
        return []
    return [Figure(**json.loads(line)) for line in path.read_text().splitlines() if line]
