"""drop the unused inbox (source_system, delivery_id) index

No query reads the inbox by delivery id (WooCommerce reuses delivery ids within a second, so
deduplication is by ``dedupe_key``), and every webhook paid for the index: a delivery id lands
on a random page of it, which SQLite then writes out with the commit.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 14:45:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.drop_index("ix_inbox_delivery")


def downgrade() -> None:
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.create_index("ix_inbox_delivery", ["source_system", "delivery_id"], unique=False)
