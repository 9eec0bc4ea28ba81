"""Legal citations kept with each finding; coordination matters as a case kind.

- ``cases.kind``: ``sanction`` (a violation case, as before; existing rows) or
  ``coordination`` (a matter about a foreign station, ending in a report to the
  ministry's frequency authority), each with its own statuses (CHECK) and transitions
  (trigger, replacing the one of ``0002_compliance``);
- ``findings``: the citation as made when the finding was recorded (``instrument``,
  ``article``, ``clause``, ``point``), what it opens (``matter``: sanction,
  coordination or information) and ``adjacent_licence``; NULL on older rows, whose
  ``legal_basis`` text stays as it was.

The status lists and transitions are written out here, not imported, so this revision
stays what it was when it shipped. Downgrading refuses, before changing anything, while
coordination matters exist.

Revision ID: 0004_legal_coordination
Revises: 0003_stations
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from alembic.util import CommandError

revision = "0004_legal_coordination"
down_revision = "0003_stations"
branch_labels = None
depends_on = None

CASE_KINDS = ("sanction", "coordination")
SANCTION_STATUSES = ("new", "triaged", "field_verification", "enforcement", "closed",
                     "dismissed")
COORDINATION_STATUSES = ("new", "triaged", "report_drafted", "reported", "closed", "dismissed")
FINDING_MATTERS = ("sanction", "coordination", "information")

#: 0002's legal moves (restored on downgrade).
_OLD_LEGAL_SQL = (
    "(OLD.status = 'new' AND NEW.status IN ('triaged', 'dismissed')) OR "
    "(OLD.status = 'triaged' AND NEW.status IN ('field_verification', 'dismissed')) OR "
    "(OLD.status = 'field_verification' AND NEW.status IN ('enforcement', 'dismissed')) OR "
    "(OLD.status = 'enforcement' AND NEW.status = 'closed')"
)
#: The legal moves by kind; must match compliance/lifecycle.py. A case keeps its kind.
_LEGAL_SQL = (
    "NEW.kind = OLD.kind AND ("
    "(NEW.kind = 'sanction' AND ("
    "(OLD.status = 'new' AND NEW.status IN ('triaged', 'dismissed')) OR "
    "(OLD.status = 'triaged' AND NEW.status IN ('field_verification', 'dismissed')) OR "
    "(OLD.status = 'field_verification' AND NEW.status IN ('enforcement', 'dismissed')) OR "
    "(OLD.status = 'enforcement' AND NEW.status = 'closed'))) OR "
    "(NEW.kind = 'coordination' AND ("
    "(OLD.status = 'new' AND NEW.status IN ('triaged', 'dismissed')) OR "
    "(OLD.status = 'triaged' AND NEW.status IN ('report_drafted', 'dismissed')) OR "
    "(OLD.status = 'report_drafted' AND NEW.status IN ('reported', 'dismissed')) OR "
    "(OLD.status = 'reported' AND NEW.status = 'closed'))))"
)
_FINDING_COLUMNS = ("instrument", "article", "clause", "point", "matter", "adjacent_licence")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


_STATUS_BY_KIND_SQL = (
    f"(kind = 'sanction' AND {_in('status', SANCTION_STATUSES)}) OR "
    f"(kind = 'coordination' AND {_in('status', COORDINATION_STATUSES)})"
)


def _sqlite_triggers(kind_aware: bool) -> None:
    op.execute(
        "CREATE TRIGGER trg_cases_insert_new BEFORE INSERT ON cases "
        "WHEN NEW.status <> 'new' "
        "BEGIN SELECT RAISE(ABORT, 'illegal case transition: a case starts as new'); END"
    )
    if kind_aware:
        op.execute(
            "CREATE TRIGGER trg_cases_transition BEFORE UPDATE OF status, kind ON cases "
            f"WHEN (NEW.status <> OLD.status OR NEW.kind <> OLD.kind) AND NOT ({_LEGAL_SQL}) "
            "BEGIN SELECT RAISE(ABORT, 'illegal case transition'); END"
        )
    else:  # 0002's trigger, word for word
        op.execute(
            "CREATE TRIGGER trg_cases_transition BEFORE UPDATE OF status ON cases "
            f"WHEN NEW.status <> OLD.status AND NOT ({_OLD_LEGAL_SQL}) "
            "BEGIN SELECT RAISE(ABORT, 'illegal case transition'); END"
        )


def _postgres_guard(legal_sql: str, kind_aware: bool) -> None:
    same = "NEW.status = OLD.status AND NEW.kind = OLD.kind" if kind_aware else (
        "NEW.status = OLD.status")
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION rfw_case_transition_guard() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                IF NEW.status <> 'new' THEN
                    RAISE EXCEPTION 'illegal case transition: a case starts as new'
                        USING ERRCODE = 'check_violation';
                END IF;
                RETURN NEW;
            END IF;
            IF {same} OR {legal_sql} THEN
                RETURN NEW;
            END IF;
            RAISE EXCEPTION 'illegal case transition % -> %', OLD.status, NEW.status
                USING ERRCODE = 'check_violation';
        END
        $$
        """
    )


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        # The rebuild of the table below drops its triggers; recreated after it.
        op.execute("DROP TRIGGER IF EXISTS trg_cases_insert_new")
        op.execute("DROP TRIGGER IF EXISTS trg_cases_transition")
    with op.batch_alter_table("cases", recreate="always" if sqlite else "auto") as batch:
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False,
                                   server_default="sanction"))
        batch.drop_constraint(op.f("ck_cases_status"), type_="check")
        batch.create_check_constraint(op.f("ck_cases_status"), _STATUS_BY_KIND_SQL)
        batch.create_check_constraint(op.f("ck_cases_kind"), _in("kind", CASE_KINDS))
    with op.batch_alter_table("findings") as batch:
        for name in _FINDING_COLUMNS:
            batch.add_column(sa.Column(name, sa.String(64 if name == "adjacent_licence" else
                                                       (16 if name == "matter" else 32)),
                                       nullable=True))
        batch.create_check_constraint(
            op.f("ck_findings_matter"), f"matter IS NULL OR {_in('matter', FINDING_MATTERS)}")
    if sqlite:
        _sqlite_triggers(kind_aware=True)
    else:
        _postgres_guard(_LEGAL_SQL, kind_aware=True)


def downgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    # Refuse before changing anything (SQLite cannot roll back a half-done rebuild).
    n = bind.execute(sa.text("SELECT count(*) FROM cases WHERE kind = 'coordination'")).scalar()
    if n:
        raise CommandError(
            f"có {n} vấn đề phối hợp / {n} coordination matter(s) exist: 0003_stations cannot "
            "hold them; export and delete them first")
    with op.batch_alter_table("findings") as batch:
        batch.drop_constraint(op.f("ck_findings_matter"), type_="check")
        for name in reversed(_FINDING_COLUMNS):
            batch.drop_column(name)
    if sqlite:
        op.execute("DROP TRIGGER IF EXISTS trg_cases_insert_new")
        op.execute("DROP TRIGGER IF EXISTS trg_cases_transition")
    else:
        _postgres_guard(_OLD_LEGAL_SQL, kind_aware=False)
    with op.batch_alter_table("cases", recreate="always" if sqlite else "auto") as batch:
        batch.drop_constraint(op.f("ck_cases_kind"), type_="check")
        batch.drop_constraint(op.f("ck_cases_status"), type_="check")
        batch.create_check_constraint(
            op.f("ck_cases_status"),
            _in("status", ("new", "triaged", "field_verification", "enforcement", "closed",
                           "dismissed")))
        batch.drop_column("kind")
    if sqlite:
        _sqlite_triggers(kind_aware=False)
