"""spend logs: the request and response (store_prompts_in_spend_logs), and the claims table
that replaces spend-log rows under disable_spend_logs

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("spend_logs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("proxy_server_request", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("response", sa.JSON(), nullable=True))
    op.create_table(
        "spend_claims",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("start_time", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_spend_claims_start_time", "spend_claims", ["start_time"])


def downgrade() -> None:
    op.drop_index("ix_spend_claims_start_time", table_name="spend_claims")
    op.drop_table("spend_claims")
    with op.batch_alter_table("spend_logs", schema=None) as batch_op:
        batch_op.drop_column("response")
        batch_op.drop_column("proxy_server_request")
