"""Alembic environment: runs on the connection the app hands it, or on sqlalchemy.url."""

from alembic import context
from sqlalchemy import engine_from_config, pool

from dashboard.models import Base
from dashboard.search import is_search_object

config = context.config
target_metadata = Base.metadata


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        # the text-search table and index are made by hand (dashboard/search.py)
        include_name=lambda name, type_, parent: not is_search_object(name),
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = engine_from_config(
        config.get_section(config.config_ini_section) or {},
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with engine.connect() as conn:
        _run(conn)
