"""The `flexsupply` command: run the stack, its parts, migrations and the optimizer."""

from typing import Annotated

import typer
from rich.console import Console

from flexsupply.cli.demo import demo
from flexsupply.cli.match import match
from flexsupply.cli.pay import test_payment
from flexsupply.cli.stack import SERVICE_NAMES, actor_modules, ensure_operator_token, load_service
from flexsupply.cli.staff import staff

# Requests in flight finish on Ctrl-C; open streams (a buyer's live counter) are cut after this, and reconnect.
GRACEFUL_SHUTDOWN_SECONDS = 5

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
app.command()(match)
app.command()(demo)
app.command(name="test-payment")(test_payment)
app.add_typer(staff, name="staff")
console = Console(stderr=True)

ServiceNames = Annotated[
    list[str] | None, typer.Argument(help=f"Which services (default all): {', '.join(SERVICE_NAMES)}.")
]


def _require_shared_broker() -> None:
    """Separate processes share work only through a real broker: the in-process one would drop every message."""
    from flexsupply.kit.broker import is_in_memory

    if is_in_memory():
        console.print(
            "[red]FLEXSUPPLY_BROKER_URL is stub:// (in-process): set amqp://... or redis://... "
            "for separate processes, or run the embedded stack with `flexsupply up`.[/red]"
        )
        raise typer.Exit(code=2)


def _migrate(names: list[str]) -> None:
    from flexsupply.kit.migrations import upgrade

    for name in names:
        service = load_service(name)
        console.print(f"migrating [bold]{name}[/bold] ...")
        upgrade(service.migrations, service.database_url)


@app.command()
def migrate(services: ServiceNames = None) -> None:
    """Apply each service's migrations to its own database."""
    _migrate(services or list(SERVICE_NAMES))
    console.print("[green]migrations applied[/green]")


@app.command()
def up(
    host: Annotated[str | None, typer.Option(help="Interface to listen on (FLEXSUPPLY_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (FLEXSUPPLY_PORT, default 8000).")] = None,
    worker_threads: Annotated[int, typer.Option(min=1, max=32)] = 4,
) -> None:
    """Run the whole stack in one process: three services, an in-process worker, SQLite in the data folder."""
    import uvicorn
    from rich.table import Table

    from flexsupply.cli.stack import embedded_app
    from flexsupply.kit.settings import KitSettings

    settings = KitSettings()
    token_path = ensure_operator_token(settings)
    _migrate(list(SERVICE_NAMES))
    services = [load_service(name) for name in SERVICE_NAMES]
    host, port = host or settings.host, port or settings.port
    table = Table(title="flexsupply (embedded)", show_header=False)
    table.add_row("API", f"http://{host}:{port}/api/v1")
    table.add_row("docs", f"http://{host}:{port}/docs")
    table.add_row("health", f"http://{host}:{port}/health")
    table.add_row("data", str(settings.data_dir.resolve()))
    table.add_row("operator token", f"in {token_path}" if token_path else "from FLEXSUPPLY_OPERATOR_TOKEN")
    console.print(table)
    uvicorn.run(
        embedded_app(services, settings, worker_threads),
        host=host,
        port=port,
        log_level="info",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )


@app.command()
def serve(
    service: Annotated[str, typer.Argument(help=f"One of {', '.join(SERVICE_NAMES)}.")],
    host: Annotated[str | None, typer.Option()] = None,
    port: Annotated[int | None, typer.Option()] = None,
) -> None:
    """Run one service alone (distributed mode: its database and the broker come from the environment)."""
    import uvicorn

    if service not in SERVICE_NAMES:
        raise typer.BadParameter(f"choose one of {', '.join(SERVICE_NAMES)}", param_hint="SERVICE")
    _require_shared_broker()
    loaded = load_service(service)
    settings = loaded.settings
    uvicorn.run(
        loaded.app(),
        host=host or settings.host,
        port=port or settings.port,
        log_level="info",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )


@app.command()
def worker(
    processes: Annotated[int, typer.Option("--processes", "-p", min=1)] = 2,
    threads: Annotated[int, typer.Option("--threads", "-t", min=1)] = 4,
    queues: Annotated[list[str] | None, typer.Option("--queue", "-Q", help="Only these queues.")] = None,
) -> None:
    """Run dramatiq worker processes for every service's actors (distributed mode)."""
    from dramatiq.cli import main as dramatiq_main
    from dramatiq.cli import make_argument_parser

    _require_shared_broker()
    args = ["flexsupply.kit.broker:broker", *actor_modules(), "-p", str(processes), "-t", str(threads)]
    if queues:
        args += ["-Q", *queues]  # dramatiq takes the queues after one -Q (a second -Q would replace the first)
    raise typer.Exit(dramatiq_main(make_argument_parser().parse_args(args)))
