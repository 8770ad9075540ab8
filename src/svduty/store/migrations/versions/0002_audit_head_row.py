"""seed the audit chain's head row

The head row must exist before the first event: ``audit.append`` locks it with
``SELECT ... FOR UPDATE``, which locks nothing while the row is missing, so on PostgreSQL two
first writers could both start the chain (and one would fail on the duplicate event id).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 00:40:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS = "0" * 64


def upgrade() -> None:
    """Insert the head row (no events yet) where there is none."""
    conn = op.get_bind()
    have = conn.execute(sa.text("SELECT COUNT(*) FROM audit_head WHERE id = 1")).scalar()
    events = conn.execute(sa.text("SELECT COUNT(*) FROM audit_events")).scalar()
    if not have and not events:
        conn.execute(
            sa.text("INSERT INTO audit_head (id, last_id, last_hash) VALUES (1, 0, :h)"),
            {"h": GENESIS},
        )


def downgrade() -> None:
    """Remove the head row of an empty chain."""
    conn = op.get_bind()
    conn.execute(sa.text("DELETE FROM audit_head WHERE id = 1 AND last_id = 0"))
