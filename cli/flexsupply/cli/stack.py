"""The three services as the command line runs them: alone (distributed) or together (embedded)."""

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from litestar import Litestar, Router
from sqlalchemy import MetaData

from flexsupply.kit.app import Lifespan, build_app
from flexsupply.kit.settings import KitSettings

SERVICE_NAMES = ("suppliers", "matching", "fulfilment")
# Modules that declare dramatiq actors; a worker imports them all.
ACTOR_MODULES = ("flexsupply.suppliers.actors",)


@dataclass(frozen=True)
class Service:
    name: str
    settings: Any
    app_module: ModuleType

    @property
    def database_url(self) -> str:
        return self.settings.database_url

    @property
    def migrations(self) -> Path:
        return self.app_module.MIGRATIONS

    @property
    def metadata(self) -> MetaData:
        return self.app_module.METADATA

    def router(self) -> Router:
        return self.app_module.create_router(self.settings)

    def lifespan(self) -> Lifespan:
        return self.app_module.create_lifespan(self.settings)

    def app(self) -> Litestar:
        return self.app_module.create_app(self.settings)


def load_service(name: str) -> Service:
    """Import lazily: the broker is chosen from the environment when the first service module is imported."""
    if name == "suppliers":
        from flexsupply.suppliers import app as suppliers_app
        from flexsupply.suppliers.settings import SuppliersSettings

        return Service(name, SuppliersSettings(), suppliers_app)
    if name == "matching":
        from flexsupply.matching import app as matching_app
        from flexsupply.matching.settings import MatchingSettings

        return Service(name, MatchingSettings(), matching_app)
    if name == "fulfilment":
        from flexsupply.fulfilment import app as fulfilment_app
        from flexsupply.fulfilment.settings import FulfilmentSettings

        return Service(name, FulfilmentSettings(), fulfilment_app)
    raise ValueError(f"unknown service {name!r}; choose one of {', '.join(SERVICE_NAMES)}")


def ensure_operator_token(settings: KitSettings) -> Path | None:
    """The embedded stack needs no set-up: make a token once and keep it in the data folder (mode 600).
    Returns where it is kept, or None when FLEXSUPPLY_OPERATOR_TOKEN gives it."""
    if settings.operator_token is not None:
        return None
    path = settings.data_dir / "operator-token"
    if not path.exists():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(32))
    os.environ["FLEXSUPPLY_OPERATOR_TOKEN"] = path.read_text().strip()  # the services read their settings from it
    return path


def start_worker(threads: int) -> Any:
    """A dramatiq worker in this process, consuming every service's queues from the configured broker."""
    import importlib

    from dramatiq import Worker

    from flexsupply.kit.broker import broker

    for module in ACTOR_MODULES:
        importlib.import_module(module)
    worker = Worker(broker, worker_timeout=100, worker_threads=threads)
    worker.start()
    return worker


def embedded_worker_lifespan(threads: int) -> Lifespan:
    """A dramatiq worker on the in-process broker, started and stopped with the app."""

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        import anyio

        worker = start_worker(threads)
        try:
            yield
        finally:
            await anyio.to_thread.run_sync(worker.stop)

    return lifespan


def embedded_app(services: list[Service], settings: KitSettings, worker_threads: int | None = 4) -> Litestar:
    """The whole stack in one app: every router, every service's lifespan, and a worker unless told none."""
    worker = [embedded_worker_lifespan(worker_threads)] if worker_threads else []
    return build_app(
        title="flexsupply",
        routers=[service.router() for service in services],
        lifespans=[*(service.lifespan() for service in services), *worker],
        log_level=settings.log_level,
    )
