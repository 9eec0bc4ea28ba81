"""Compliance: licences, foreign stations, cases, findings, evidence, case history.

Besides the tables and their CHECK constraints this revision installs database-side
guards, on SQLite and PostgreSQL alike:

- a case is inserted as ``new`` and its status only moves along the lifecycle of
  ``compliance/lifecycle.py`` (new -> triaged -> field_verification -> enforcement ->
  closed, or dismissed from new/triaged/field_verification);
- ``case_history`` is append-only: UPDATE, DELETE (and TRUNCATE on PostgreSQL) are
  refused.

The status lists are written out here, not imported, so this revision stays what it
was when it shipped.

Revision ID: 0002_compliance
Revises: 0001_foundation
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_compliance"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None

SERVICES = (
    "fm_broadcast",
    "tv_broadcast",
    "commune_loudspeaker",
    "land_mobile",
    "fixed",
    "aeronautical",
    "amateur",
    "other",
)
CASE_STATUSES = ("new", "triaged", "field_verification", "enforcement", "closed", "dismissed")
DISMISS_REASONS = ("foreign_coordinated", "known", "false_alarm")
EMITTER_CLASSES = ("licensed", "foreign", "exempt", "unknown")
FINDING_KINDS = (
    "unlicensed_emission",
    "frequency_out_of_tolerance",
    "bandwidth_exceeded",
    "off_channel_raster",
    "licence_not_valid",
    "power_exceeded",
    "cross_border_over_trigger",
    "exempt_limit_exceeded",
)
EVIDENCE_KINDS = ("spectrum", "sigmf", "field_measurement", "photo")
HISTORY_ACTIONS = ("created", "finding_added", "assigned", "transition", "evidence_added", "note")

#: The legal moves (old status, new status); must match compliance/lifecycle.py.
_LEGAL_SQL = (
    "(OLD.status = 'new' AND NEW.status IN ('triaged', 'dismissed')) OR "
    "(OLD.status = 'triaged' AND NEW.status IN ('field_verification', 'dismissed')) OR "
    "(OLD.status = 'field_verification' AND NEW.status IN ('enforcement', 'dismissed')) OR "
    "(OLD.status = 'enforcement' AND NEW.status = 'closed')"
)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _station_columns() -> list[sa.Column]:
    return [
        sa.Column("licence_id", sa.String(64), nullable=False),
        sa.Column("station_name", sa.String(200), nullable=False),
        sa.Column("service", sa.String(32), nullable=False),
        sa.Column("f_hz", sa.Float(), nullable=False),
        sa.Column("emission", sa.String(16), nullable=False),
        sa.Column("erp_w", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("antenna_height_m", sa.Float(), nullable=True),
    ]


def upgrade() -> None:
    op.create_table(
        "licences",
        *_station_columns(),
        sa.Column("licensee", sa.String(200), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("licence_id", name=op.f("pk_licences")),
        sa.CheckConstraint(_in("service", SERVICES), name=op.f("ck_licences_service")),
        sa.CheckConstraint(
            _in("status", ("valid", "suspended", "revoked")), name=op.f("ck_licences_status")
        ),
        sa.CheckConstraint("f_hz > 0", name=op.f("ck_licences_f_hz")),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_to >= valid_from", name=op.f("ck_licences_validity")
        ),
    )
    op.create_table(
        "foreign_stations",
        *_station_columns(),
        sa.Column("country", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("licence_id", name=op.f("pk_foreign_stations")),
        sa.CheckConstraint(_in("service", SERVICES), name=op.f("ck_foreign_stations_service")),
        sa.CheckConstraint("f_hz > 0", name=op.f("ck_foreign_stations_f_hz")),
    )
    op.create_table(
        "cases",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("dismiss_reason", sa.String(32), nullable=True),
        sa.Column("emitter_class", sa.String(16), nullable=False),
        sa.Column("f_hz", sa.Float(), nullable=False),
        sa.Column("bw_hz", sa.Float(), nullable=False),
        sa.Column("licence_id", sa.String(64), nullable=True),
        sa.Column("matched_id", sa.String(64), nullable=True),
        sa.Column("severity", sa.String(8), nullable=False),
        sa.Column("assignee", sa.String(200), nullable=True),
        sa.Column("first_seen_ns", sa.BigInteger(), nullable=False),
        sa.Column("last_seen_ns", sa.BigInteger(), nullable=False),
        sa.Column("created_ns", sa.BigInteger(), nullable=False),
        sa.Column("updated_ns", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
        sa.ForeignKeyConstraint(
            ["licence_id"],
            ["licences.licence_id"],
            name=op.f("fk_cases_licence_id_licences"),
            ondelete="SET NULL",
        ),
        sa.CheckConstraint(_in("status", CASE_STATUSES), name=op.f("ck_cases_status")),
        sa.CheckConstraint(
            _in("emitter_class", EMITTER_CLASSES), name=op.f("ck_cases_emitter_class")
        ),
        sa.CheckConstraint(
            f"(status = 'dismissed' AND dismiss_reason IS NOT NULL AND "
            f"{_in('dismiss_reason', DISMISS_REASONS)}) OR "
            "(status <> 'dismissed' AND dismiss_reason IS NULL)",
            name=op.f("ck_cases_dismiss_reason"),
        ),
    )
    op.create_index(op.f("ix_cases_status"), "cases", ["status"])
    op.create_index(op.f("ix_cases_f_hz"), "cases", ["f_hz"])
    op.create_table(
        "findings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("station_id", sa.String(64), nullable=False),
        sa.Column("t_ns", sa.BigInteger(), nullable=False),
        sa.Column("f_hz", sa.Float(), nullable=False),
        sa.Column("bw_hz", sa.Float(), nullable=False),
        sa.Column("measured", sa.Float(), nullable=True),
        sa.Column("permitted", sa.Float(), nullable=True),
        sa.Column("unit", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(8), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("licence_id", sa.String(64), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_findings")),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_findings_case_id_cases")),
        sa.CheckConstraint(_in("kind", FINDING_KINDS), name=op.f("ck_findings_kind")),
        sa.CheckConstraint(
            _in("severity", ("low", "medium", "high")), name=op.f("ck_findings_severity")
        ),
    )
    op.create_index(op.f("ix_findings_case_id"), "findings", ["case_id"])
    op.create_table(
        "case_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(40), nullable=False),
        sa.Column("t_ns", sa.BigInteger(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("from_status", sa.String(24), nullable=True),
        sa.Column("to_status", sa.String(24), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_history")),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_history_case_id_cases")
        ),
        sa.CheckConstraint(_in("action", HISTORY_ACTIONS), name=op.f("ck_case_history_action")),
    )
    op.create_index(op.f("ix_case_history_case_id"), "case_history", ["case_id"])
    op.create_table(
        "evidence",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("uri", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("added_by", sa.String(200), nullable=False),
        sa.Column("added_ns", sa.BigInteger(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence")),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_evidence_case_id_cases")),
        sa.CheckConstraint(_in("kind", EVIDENCE_KINDS), name=op.f("ck_evidence_kind")),
        sa.CheckConstraint("length(sha256) = 64", name=op.f("ck_evidence_sha256")),
    )
    op.create_index(op.f("ix_evidence_case_id"), "evidence", ["case_id"])

    if op.get_bind().dialect.name == "postgresql":
        _postgres_guards()
    else:
        _sqlite_guards()


def _sqlite_guards() -> None:
    op.execute(
        "CREATE TRIGGER trg_cases_insert_new BEFORE INSERT ON cases "
        "WHEN NEW.status <> 'new' "
        "BEGIN SELECT RAISE(ABORT, 'illegal case transition: a case starts as new'); END"
    )
    op.execute(
        "CREATE TRIGGER trg_cases_transition BEFORE UPDATE OF status ON cases "
        f"WHEN NEW.status <> OLD.status AND NOT ({_LEGAL_SQL}) "
        "BEGIN SELECT RAISE(ABORT, 'illegal case transition'); END"
    )
    op.execute(
        "CREATE TRIGGER trg_case_history_no_update BEFORE UPDATE ON case_history "
        "BEGIN SELECT RAISE(ABORT, 'case_history is append-only'); END"
    )
    op.execute(
        "CREATE TRIGGER trg_case_history_no_delete BEFORE DELETE ON case_history "
        "BEGIN SELECT RAISE(ABORT, 'case_history is append-only'); END"
    )


def _postgres_guards() -> None:
    op.execute(
        f"""
        CREATE FUNCTION rfw_case_transition_guard() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                IF NEW.status <> 'new' THEN
                    RAISE EXCEPTION 'illegal case transition: a case starts as new'
                        USING ERRCODE = 'check_violation';
                END IF;
                RETURN NEW;
            END IF;
            IF NEW.status = OLD.status OR {_LEGAL_SQL} THEN
                RETURN NEW;
            END IF;
            RAISE EXCEPTION 'illegal case transition % -> %', OLD.status, NEW.status
                USING ERRCODE = 'check_violation';
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER trg_cases_transition BEFORE INSERT OR UPDATE ON cases "
        "FOR EACH ROW EXECUTE FUNCTION rfw_case_transition_guard()"
    )
    op.execute(
        """
        CREATE FUNCTION rfw_append_only() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '% is append-only', TG_TABLE_NAME
                USING ERRCODE = 'insufficient_privilege';
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER trg_case_history_append_only BEFORE UPDATE OR DELETE ON case_history "
        "FOR EACH ROW EXECUTE FUNCTION rfw_append_only()"
    )
    op.execute(
        "CREATE TRIGGER trg_case_history_no_truncate BEFORE TRUNCATE ON case_history "
        "FOR EACH STATEMENT EXECUTE FUNCTION rfw_append_only()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS trg_case_history_no_truncate ON case_history")
        op.execute("DROP TRIGGER IF EXISTS trg_case_history_append_only ON case_history")
        op.execute("DROP TRIGGER IF EXISTS trg_cases_transition ON cases")
        op.execute("DROP FUNCTION IF EXISTS rfw_append_only()")
        op.execute("DROP FUNCTION IF EXISTS rfw_case_transition_guard()")
    for index, table in (
        ("ix_evidence_case_id", "evidence"),
        ("ix_case_history_case_id", "case_history"),
        ("ix_findings_case_id", "findings"),
        ("ix_cases_f_hz", "cases"),
        ("ix_cases_status", "cases"),
    ):
        op.drop_index(index, table_name=table)
    # Dropping a table drops its SQLite triggers with it.
    for table in ("evidence", "case_history", "findings", "cases", "foreign_stations", "licences"):
        op.drop_table(table)
