"""Each service's alembic history: it matches the models, and it goes down and up again cleanly."""

import asyncio
import os
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from flexsupply.cli.stack import load_service
from flexsupply.kit.db import create_engine
from flexsupply.kit.migrations import alembic_config, upgrade
from tests.support.databases import SERVICES, fresh_databases


def schema_differences(url: str, service: str) -> list[object]:
    metadata = load_service(service).metadata

    async def compare() -> list[object]:
        engine = create_engine(url, pooled=False)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(
                    lambda sync: compare_metadata(MigrationContext.configure(sync), metadata)
                )
        finally:
            await engine.dispose()

    return asyncio.run(compare())


@pytest.mark.parametrize("service", SERVICES)
def test_migrations_match_the_models_and_round_trip(service: str, tmp_path: Path):
    migrations = load_service(service).migrations
    with fresh_databases(os.environ.get("FLEXSUPPLY_TEST_POSTGRES_URL"), tmp_path) as urls:
        url = urls[service]
        upgrade(migrations, url)
        assert schema_differences(url, service) == []
        command.downgrade(alembic_config(migrations, url), "base")
        upgrade(migrations, url)
        assert schema_differences(url, service) == []
