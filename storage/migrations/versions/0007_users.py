"""Users and roles, the API's signing keys, alarm acknowledgements; the audit log
becomes append-only in the database.

Revision ID: 0007_users
Revises: 0006_centre
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_users"
down_revision = "0006_centre"
branch_labels = None
depends_on = None

ROLES = ("admin", "inspector", "field", "official")


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("token_version", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("created_ns", sa.BigInteger(), nullable=False),
        sa.Column("disabled_ns", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_users")),
        sa.CheckConstraint(
            "role IN (" + ", ".join(f"'{r}'" for r in ROLES) + ")", name=op.f("ck_users_role")
        ),
    )
    op.create_table(
        "signing_keys",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("secret", sa.String(128), nullable=False),
        sa.Column("created_ns", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signing_keys")),
    )
    op.create_table(
        "alarm_acks",
        sa.Column("user_name", sa.String(64), nullable=False),
        sa.Column("case_id", sa.String(40), nullable=False),
        sa.Column("finding_id", sa.Integer(), nullable=False),
        sa.Column("t_ns", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("user_name", "case_id", name=op.f("pk_alarm_acks")),
        sa.ForeignKeyConstraint(
            ["user_name"], ["users.name"], name=op.f("fk_alarm_acks_user_name_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_alarm_acks_case_id_cases"),
            ondelete="CASCADE",
        ),
    )
    if op.get_bind().dialect.name == "postgresql":
        # rfw_append_only() comes from 0002_compliance.
        op.execute(
            "CREATE TRIGGER trg_audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION rfw_append_only()"
        )
        op.execute(
            "CREATE TRIGGER trg_audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
            "FOR EACH STATEMENT EXECUTE FUNCTION rfw_append_only()"
        )
    else:
        op.execute(
            "CREATE TRIGGER trg_audit_log_no_update BEFORE UPDATE ON audit_log "
            "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
        )
        op.execute(
            "CREATE TRIGGER trg_audit_log_no_delete BEFORE DELETE ON audit_log "
            "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS trg_audit_log_no_truncate ON audit_log")
        op.execute("DROP TRIGGER IF EXISTS trg_audit_log_append_only ON audit_log")
    else:
        op.execute("DROP TRIGGER IF EXISTS trg_audit_log_no_delete")
        op.execute("DROP TRIGGER IF EXISTS trg_audit_log_no_update")
    op.drop_table("alarm_acks")
    op.drop_table("signing_keys")
    op.drop_table("users")
