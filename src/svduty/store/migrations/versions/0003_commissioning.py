"""commissioning: interventions, quarterly returns, funding rounds, proposals, allocations

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 03:45:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the commissioning tables."""
    op.create_table(
        "interventions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("provider", sa.String(length=200), nullable=False),
        sa.Column("areas", sa.JSON(), nullable=False),
        sa.Column("funding_source", sa.String(length=120), nullable=False),
        sa.Column("financial_year", sa.String(length=7), nullable=False),
        sa.Column("amount_pence", sa.Integer(), nullable=False),
        sa.Column("approach", sa.String(length=60), nullable=False),
        sa.Column("target_cohort", sa.Text(), nullable=False),
        sa.Column("target_age_max", sa.Integer(), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=True),
        sa.Column("referrals", sa.Integer(), nullable=True),
        sa.Column("participants", sa.Integer(), nullable=True),
        sa.Column("sessions", sa.Integer(), nullable=True),
        sa.Column("spend_pence", sa.Integer(), nullable=True),
        sa.Column("source_file", sa.String(length=255), nullable=False),
        sa.Column("imported_at", sa.String(length=32), nullable=True),
        sa.Column("updated_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("reference"),
    )
    op.create_table(
        "intervention_returns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("intervention_id", sa.Integer(), nullable=False),
        sa.Column("quarter", sa.String(length=7), nullable=False),
        sa.Column("referrals", sa.Integer(), nullable=True),
        sa.Column("participants", sa.Integer(), nullable=True),
        sa.Column("sessions", sa.Integer(), nullable=True),
        sa.Column("spend_pence", sa.Integer(), nullable=True),
        sa.Column("source_file", sa.String(length=255), nullable=False),
        sa.Column("updated_by", sa.String(length=120), nullable=False),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["intervention_id"], ["interventions.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("intervention_id", "quarter"),
    )
    with op.batch_alter_table("intervention_returns", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_intervention_returns_intervention_id"), ["intervention_id"]
        )
    op.create_table(
        "funding_rounds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("budget_pence", sa.Integer(), nullable=True),
        sa.Column("minimum_per_area_pence", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("allocation", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "proposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("provider", sa.String(length=200), nullable=False),
        sa.Column("area", sa.String(length=9), nullable=False),
        sa.Column("approach", sa.String(length=60), nullable=False),
        sa.Column("amount_requested_pence", sa.Integer(), nullable=False),
        sa.Column("participants_planned", sa.Integer(), nullable=False),
        sa.Column("target_age_max", sa.Integer(), nullable=False),
        sa.Column("source_file", sa.String(length=255), nullable=False),
        sa.Column("updated_by", sa.String(length=120), nullable=False),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["round_id"], ["funding_rounds.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("round_id", "reference"),
    )
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_proposals_round_id"), ["round_id"])
    op.create_table(
        "allocations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("recommended_pence", sa.Integer(), nullable=False),
        sa.Column("explanation", sa.JSON(), nullable=False),
        sa.Column("computed_at", sa.String(length=32), nullable=False),
        sa.Column("computed_by", sa.String(length=120), nullable=False),
        sa.Column("inputs_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["round_id"], ["funding_rounds.id"]),
        sa.ForeignKeyConstraint(["proposal_id"], ["proposals.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("allocations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_allocations_round_id"), ["round_id"])
        batch_op.create_index(batch_op.f("ix_allocations_proposal_id"), ["proposal_id"])
        batch_op.create_index(batch_op.f("ix_allocations_inputs_hash"), ["inputs_hash"])
    op.create_table(
        "allocation_overrides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("allocation_id", sa.Integer(), nullable=True),
        sa.Column("amount_pence", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("user", sa.String(length=120), nullable=False),
        sa.Column("at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["proposal_id"], ["proposals.id"]),
        sa.ForeignKeyConstraint(["allocation_id"], ["allocations.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("allocation_overrides", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_allocation_overrides_proposal_id"), ["proposal_id"])


def downgrade() -> None:
    """Drop the commissioning tables."""
    with op.batch_alter_table("allocation_overrides", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_allocation_overrides_proposal_id"))
    op.drop_table("allocation_overrides")
    with op.batch_alter_table("allocations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_allocations_inputs_hash"))
        batch_op.drop_index(batch_op.f("ix_allocations_proposal_id"))
        batch_op.drop_index(batch_op.f("ix_allocations_round_id"))
    op.drop_table("allocations")
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_proposals_round_id"))
    op.drop_table("proposals")
    op.drop_table("funding_rounds")
    with op.batch_alter_table("intervention_returns", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intervention_returns_intervention_id"))
    op.drop_table("intervention_returns")
    op.drop_table("interventions")
