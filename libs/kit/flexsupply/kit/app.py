"""Assemble a Litestar app from service routers: one way for a single service and for the embedded stack."""

import logging
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from pathlib import Path

from litestar import Litestar, Router
from litestar.config.cors import CORSConfig
from litestar.logging import LoggingConfig
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from flexsupply.kit import i18n
from flexsupply.kit.access_log import RedactTokens
from flexsupply.kit.errors import internal_error_handler, problem_details
from flexsupply.kit.health import health, live
from flexsupply.kit.idempotency import IdempotencyKeyReused
from flexsupply.kit.openapi import DocumentedProblems, PydanticModelSchemas
from flexsupply.kit.printable import PrintableUrls

Lifespan = Callable[[Litestar], AbstractAsyncContextManager[None]]
DOCS_ASSETS = "/docs-assets"
# Swagger UI 5 (swagger-ui-dist, Apache-2.0, its LICENSE beside it): 4.x cannot read the OpenAPI 3.1 document.
DOCS_FILES = Path(__file__).resolve().parent / "static" / "docs"


def _openapi(title: str) -> OpenAPIConfig:
    # Swagger UI's files are served by the app itself: the docs page works without internet access.
    swagger = SwaggerRenderPlugin(
        path="/",
        js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
        css_url=f"{DOCS_ASSETS}/swagger-ui.css",
        standalone_preset_js_url=f"{DOCS_ASSETS}/swagger-ui-standalone-preset.js",
        favicon=f"<link rel='icon' type='image/png' href='{DOCS_ASSETS}/favicon-32x32.png'>",
    )
    return OpenAPIConfig(
        title=title,
        version="1",
        path="/docs",
        render_plugins=[swagger],
        components=Components(
            security_schemes={
                "bearer": SecurityScheme(
                    type="http",
                    scheme="bearer",
                    description="The operator token, a supplier's API key (fsk_...) or a group leader's (flk_...).",
                )
            }
        ),
        security=[{"bearer": []}],
        use_handler_docstrings=True,  # each operation's description is its handler's docstring
    )


def build_app(
    *,
    title: str,
    routers: Sequence[Router],
    lifespans: Sequence[Lifespan],
    domain_errors: Mapping[type[Exception], int] | None = None,
    log_level: str = "INFO",
    debug: bool = False,
    template_directories: Sequence[Path] = (),
    locale_directories: Sequence[Path] = (),
    time_zone: str = i18n.DEFAULT_TIME_ZONE,
) -> Litestar:
    errors = {IdempotencyKeyReused: 422, **(domain_errors or {})}
    assets = create_static_files_router(
        path=DOCS_ASSETS,
        directories=[DOCS_FILES],
        include_in_schema=False,
        opt={"exclude_from_auth": True},
    )
    i18n.register_catalogues(locale_directories)
    return Litestar(
        route_handlers=[live, health, assets, *routers],
        middleware=[PrintableUrls(), DefineMiddleware(i18n.LocaleMiddleware, time_zone=time_zone)],
        lifespan=list(lifespans),
        plugins=[problem_details(errors), DocumentedProblems(), PydanticModelSchemas()],
        exception_handlers={500: internal_error_handler},
        # Server-rendered pages (Jinja, autoescaped); one app may hold several services' template folders.
        template_config=(
            TemplateConfig(
                directory=list(template_directories),
                engine=JinjaTemplateEngine,
                engine_callback=lambda engine: i18n.install(engine.engine),
            )
            if template_directories
            else None
        ),
        openapi_config=_openapi(title),
        cors_config=CORSConfig(allow_origins=[]),
        logging_config=LoggingConfig(
            root={"level": log_level, "handlers": ["queue_listener"]},
            # litestar logs a failed request's path, which may hold a buyer's token.
            filters={"redact": {"()": RedactTokens}},
            loggers={
                "litestar": {
                    "level": log_level,
                    "handlers": ["queue_listener"],
                    "propagate": False,
                    "filters": ["redact"],
                }
            },
            log_exceptions="debug",
            disable_stack_trace={404, 400, 401, 403, 409, 422},
        ),
        debug=debug,
    )


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
