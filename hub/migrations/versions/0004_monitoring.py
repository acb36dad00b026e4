"""monitoring: reconciliation reports, alert state, indexes for latency, event windows and
tracking by canonical id

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 16:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from hub.types import UtcDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "reconciliation_reports",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("system", sa.String(length=64), nullable=False),
        sa.Column("entity", sa.String(length=32), nullable=False),
        sa.Column("stream", sa.String(length=64), nullable=True),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("finished_at", UtcDateTime(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("system_count", sa.Integer(), nullable=False),
        sa.Column("hub_count", sa.Integer(), nullable=False),
        sa.Column("system_checksum", sa.String(length=64), nullable=True),
        sa.Column("hub_checksum", sa.String(length=64), nullable=True),
        sa.Column("missing_in_hub", sa.Integer(), nullable=False),
        sa.Column("missing_in_system", sa.Integer(), nullable=False),
        sa.Column("version_drift", sa.Integer(), nullable=False),
        sa.Column("items", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_reconciliation_reports"),
    )
    op.create_index(
        "ix_reconciliation_reports_scope", "reconciliation_reports", ["system", "entity", "id"]
    )
    op.create_table(
        "alert_state",
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("first_seen_at", UtcDateTime(), nullable=False),
        sa.Column("last_sent_at", UtcDateTime(), nullable=True),
        sa.Column("sent_count", sa.Integer(), nullable=False),
        sa.Column("suppressed_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_alert_state"),
    )
    op.create_index("ix_deliveries_delivered_at", "deliveries", ["delivered_at"])
    op.create_index("ix_deliveries_canonical", "deliveries", ["canonical_id"])
    op.create_index("ix_inbox_received", "inbox", ["received_at"])
    op.create_index("ix_events_kind_system_at", "events", ["kind", "system", "at"])


def downgrade() -> None:
    op.drop_index("ix_events_kind_system_at", table_name="events")
    op.drop_index("ix_inbox_received", table_name="inbox")
    op.drop_index("ix_deliveries_canonical", table_name="deliveries")
    op.drop_index("ix_deliveries_delivered_at", table_name="deliveries")
    op.drop_table("alert_state")
    op.drop_index("ix_reconciliation_reports_scope", table_name="reconciliation_reports")
    op.drop_table("reconciliation_reports")
