"""Grant rows: one row per (object, grantee) with an access level, where `NONE` is no row.

Project, collection and data-connection sharing all keep grants this way, so "has a row"
always means "has some access", and one function sets any of them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import Session

NONE = "NONE"


def set_access(session: Session, model: type[Any], access: str, **keys: str) -> None:
    """Give the grantee named by `keys` (the model's primary-key columns) `access` to the
    object; `NONE` removes the grant."""
    identity = tuple(keys[column.key] for column in inspect(model).primary_key)
    row = session.get(model, identity)
    if access == NONE:
        if row is not None:
            session.delete(row)
    elif row is None:
        session.add(model(**keys, access=access))
    else:
        row.access = access
