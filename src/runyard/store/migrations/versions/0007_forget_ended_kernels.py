"""forget the kernels of ended runs

Revision ID: 0007
Revises: 0006

`runs.kernel_pid` now means "this run's kernel may still be alive": the worker clears it
when its runner has disposed of the kernel, and a process starting on the kernel's host
kills what is left of the others. Runs that ended before this revision kept their pid;
their kernels are long gone, so the pid is cleared rather than checked at every start.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("UPDATE runs SET kernel_pid = NULL WHERE status <> 'RUNNING'")


def downgrade() -> None:
    # The pids cleared are not needed by the earlier revision's code.
    pass
