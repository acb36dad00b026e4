"""golden records: per-source views, field sources, sent hashes, identity review list

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 16:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from hub.types import UtcDateTime

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("field_sources", sa.Text(), nullable=True))
    with op.batch_alter_table("xref", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sent_hash", sa.String(length=64), nullable=True))
    op.create_table(
        "source_views",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("canonical_id", sa.String(length=64), nullable=False),
        sa.Column("system", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("source_updated_at", UtcDateTime(), nullable=True),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["canonical_id"], ["records.id"], name="fk_source_views_canonical_id_records"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_source_views"),
        sa.UniqueConstraint("canonical_id", "system", name="uq_source_views_canonical_id_system"),
    )
    op.create_table(
        "review_items",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("entity", sa.String(length=32), nullable=False),
        sa.Column("left_id", sa.String(length=64), nullable=False),
        sa.Column("right_id", sa.String(length=64), nullable=False),
        sa.Column("score", sa.String(length=32), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=128), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("decided_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_review_items"),
        sa.UniqueConstraint(
            "entity", "left_id", "right_id", name="uq_review_items_entity_left_id_right_id"
        ),
    )
    op.create_index("ix_review_items_status", "review_items", ["status", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_review_items_status", table_name="review_items")
    op.drop_table("review_items")
    op.drop_table("source_views")
    with op.batch_alter_table("xref", schema=None) as batch_op:
        batch_op.drop_column("sent_hash")
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.drop_column("field_sources")
