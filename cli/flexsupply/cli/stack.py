"""The three services as the command line runs them: alone (distributed) or together (embedded).

Each service describes itself once (`flexsupply.<name>.app.DESCRIPTION`); this module only binds a description to
its settings and puts several in one app.
"""

# Annotations stay strings: `flexsupply --help` and `flexsupply match` must not import litestar or SQLAlchemy.
from __future__ import annotations

import importlib
import os
import secrets
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from litestar import Litestar, Router
    from sqlalchemy import MetaData

    from flexsupply.kit.app import Lifespan
    from flexsupply.kit.service import ServiceDescription
    from flexsupply.kit.settings import KitSettings

SERVICE_NAMES = ("suppliers", "matching", "fulfilment")


@dataclass(frozen=True)
class Service:
    description: ServiceDescription
    settings: Any

    @property
    def name(self) -> str:
        return self.description.name

    @property
    def database_url(self) -> str:
        return self.settings.database_url

    @property
    def migrations(self) -> Path:
        return self.description.migrations

    @property
    def metadata(self) -> MetaData:
        return self.description.metadata

    def router(self) -> Router:
        return self.description.create_router(self.settings)

    def lifespan(self) -> Lifespan:
        return self.description.lifespan(self.settings)

    def app(self) -> Litestar:
        return self.description.app(self.settings)


def load_service(name: str) -> Service:
    """Import lazily: the broker is chosen from the environment when the first service module is imported."""
    if name not in SERVICE_NAMES:
        raise ValueError(f"unknown service {name!r}; choose one of {', '.join(SERVICE_NAMES)}")
    description: ServiceDescription = importlib.import_module(f"flexsupply.{name}.app").DESCRIPTION
    return Service(description, description.settings())


def actor_modules() -> list[str]:
    """Every service's actor modules: a worker consumes them all."""
    return [module for name in SERVICE_NAMES for module in load_service(name).description.actor_modules]


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
    from dramatiq import Worker

    from flexsupply.kit.broker import broker

    for module in actor_modules():
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


def in_process_peers_lifespan(names: list[str]) -> Lifespan:
    """The services' clients reach each other inside this app, from the web loop and from workers' loops."""

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        from flexsupply.kit.peers import serving_in_process

        async with serving_in_process(names, app):
            yield

    return lifespan


def domain_errors(services: list[Service]) -> Mapping[type[Exception], int]:
    from flexsupply.kit.service import KIT_ERRORS

    errors: dict[type[Exception], int] = dict(KIT_ERRORS)
    for service in services:
        errors.update(service.description.domain_errors)
    return errors


def embedded_app(services: list[Service], settings: KitSettings, worker_threads: int | None = 4) -> Litestar:
    """The whole stack in one app: every router, every service's lifespan, and a worker unless told none."""
    from flexsupply.kit.app import build_app

    worker = [embedded_worker_lifespan(worker_threads)] if worker_threads else []
    return build_app(
        title="flexsupply",
        routers=[service.router() for service in services],
        lifespans=[
            in_process_peers_lifespan([service.name for service in services]),
            *(service.lifespan() for service in services),
            *worker,
        ],
        domain_errors=domain_errors(services),
        log_level=settings.log_level,
        template_directories=[path for service in services for path in service.description.template_directories],
        locale_directories=[path for service in services for path in service.description.locale_directories],
        time_zone=settings.community_time_zone,
    )
