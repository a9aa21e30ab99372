"""The migrations build exactly the schema the models declare, on both databases (branches merged
with their own migrations are chained in order)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from data.db import Database
from data.models import Base


def test_migrations_match_the_models(db_url: str) -> None:
    db = Database(db_url)
    db.migrate()
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        heads = MigrationContext.configure(conn).get_current_heads()
    db.dispose()
    assert diff == []
    assert len(heads) == 1
