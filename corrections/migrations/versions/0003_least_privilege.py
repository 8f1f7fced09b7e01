"""Least privilege in the console (issue 15): explicit national scope, demo accounts marked, audit scoped,
login throttling in the store.

- ``users.national``: a data officer's national scope is explicit. Backfilled for admins and for the data officers
  that existed without a province (they had national scope; new ones must be created with ``--national``).
- ``users.demo``: accounts made by the demo seeding, never accepted in production. Backfilled for the accounts that
  look like the seeding's (its user and display names) *and* still verify against the published demo password (the
  seeding always set it), so a demo name whose password was changed (a hardened account) is not marked. Production
  refuses the demo password for every account anyway.
- ``audit_log.province_code`` (+ index with ``id`` for the scoped, newest-first page): backfilled from the entry's
  ward (the current unit table), else from the acting user's province.
- ``login_throttle``: failed logins per (user name, client), see ``corrections.throttle``.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from corrections.passwords import DEMO_PASSWORD, verify_password

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# What the demo seeding wrote (user name and display name); only such accounts have their password checked (about
# 50 ms each), so a store with thousands of real "congan.<ward>" officers named otherwise migrates in no time.
_DEMO_CANDIDATES = (
    "(username = 'quantri' AND display_name = 'Quản trị hệ thống') "
    "OR (username LIKE 'dulieu.%' AND display_name = 'Cán bộ quản lý dữ liệu tỉnh') "
    "OR (username LIKE 'congan.%' AND display_name LIKE 'Công an %')"
)


def upgrade() -> None:
    op.add_column("users", sa.Column("national", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column("users", sa.Column("demo", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column("audit_log", sa.Column("province_code", sa.String(length=4), nullable=True))
    op.create_index("ix_audit_log_province_code_id", "audit_log", ["province_code", "id"], unique=False)
    op.create_table(
        "login_throttle",
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("blocked_until", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("username", "client", name=op.f("pk_login_throttle")),
    )
    bind = op.get_bind()
    bind.execute(
        sa.text(
            "UPDATE users SET national = :yes WHERE role = 'admin' OR (role = 'data_officer' AND province_code IS NULL)"
        ),
        {"yes": True},
    )
    demo_ids = [
        row.id
        for row in bind.execute(sa.text(f"SELECT id, password_hash FROM users WHERE {_DEMO_CANDIDATES}"))
        if verify_password(DEMO_PASSWORD, row.password_hash)
    ]
    if demo_ids:
        bind.execute(
            sa.text("UPDATE users SET demo = :yes WHERE id IN :ids").bindparams(sa.bindparam("ids", expanding=True)),
            {"yes": True, "ids": demo_ids},
        )
    _backfill_audit_provinces(bind)


def _backfill_audit_provinces(bind: sa.Connection) -> None:
    from normalize import units

    wards = units.current_wards()
    by_province: dict[str, list[str]] = {}
    for ward, province in zip(wards["ward_code"].to_list(), wards["province_code"].to_list(), strict=True):
        by_province.setdefault(province, []).append(ward)
    statement = sa.text("UPDATE audit_log SET province_code = :province WHERE ward_code IN :wards").bindparams(
        sa.bindparam("wards", expanding=True)
    )
    for province, codes in sorted(by_province.items()):
        bind.execute(statement, {"province": province, "wards": codes})
    bind.execute(
        sa.text(
            "UPDATE audit_log SET province_code = (SELECT u.province_code FROM users u "
            "WHERE u.username = audit_log.actor AND u.national = :no) WHERE province_code IS NULL"
        ),
        {"no": False},
    )


def downgrade() -> None:
    op.drop_table("login_throttle")
    op.drop_index("ix_audit_log_province_code_id", table_name="audit_log")
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("province_code")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("demo")
        batch.drop_column("national")
