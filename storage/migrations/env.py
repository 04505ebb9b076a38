"""Alembic environment: runs on a connection handed over by storage.schema."""

from __future__ import annotations

from alembic import context

import storage.web_models  # noqa: F401  (the web side's tables)
from storage import wechat_models  # noqa: F401  (the WeChat transport's tables)
from storage.models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
