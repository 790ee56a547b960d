"""models, credentials and budgets stored in the database

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None
ENTITY_TABLES = ("virtual_keys", "teams", "users", "end_users")


def upgrade() -> None:
    op.create_table(
        "proxy_models",
        sa.Column("model_id", sa.String(length=64), nullable=False),
        sa.Column("model_name", sa.String(length=255), nullable=False),
        sa.Column("litellm_params", sa.JSON(), nullable=False),
        sa.Column("model_info", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("model_id"),
    )
    with op.batch_alter_table("proxy_models", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_proxy_models_model_name"), ["model_name"], unique=False
        )
    op.create_table(
        "credentials",
        sa.Column("credential_name", sa.String(length=255), nullable=False),
        sa.Column("credential_values", sa.JSON(), nullable=False),
        sa.Column("credential_info", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("credential_name"),
    )
    op.create_table(
        "budgets",
        sa.Column("budget_id", sa.String(length=255), nullable=False),
        sa.Column("max_budget", sa.Float(), nullable=True),
        sa.Column("soft_budget", sa.Float(), nullable=True),
        sa.Column("budget_duration", sa.String(length=32), nullable=True),
        sa.Column("budget_reset_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rpm_limit", sa.BigInteger(), nullable=True),
        sa.Column("tpm_limit", sa.BigInteger(), nullable=True),
        sa.Column("max_parallel_requests", sa.BigInteger(), nullable=True),
        sa.Column("model_max_budget", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("budget_id"),
    )
    for table in ENTITY_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("budget_id", sa.String(length=255), nullable=True))
            batch_op.add_column(sa.Column("soft_budget", sa.Float(), nullable=True))
            batch_op.add_column(sa.Column("model_max_budget", sa.JSON(), nullable=True))


def downgrade() -> None:
    for table in ENTITY_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("model_max_budget")
            batch_op.drop_column("soft_budget")
            batch_op.drop_column("budget_id")
    op.drop_table("budgets")
    op.drop_table("credentials")
    with op.batch_alter_table("proxy_models", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_proxy_models_model_name"))
    op.drop_table("proxy_models")
