"""Tasks name the persons of the clean register they are about (issue 11).

``tasks.person_keys``: the register's person keys (cluster ids) of the task's records; the console shows each
person's golden record (snapshot ``register:<key>``) beside the records. Null on tasks written before.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("tasks", sa.Column("person_keys", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("person_keys")
