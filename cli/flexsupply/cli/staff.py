"""`flexsupply staff add EMAIL --name NAME`: an account for the fulfilment staff's board."""

import os
from typing import Annotated

import typer

PASSWORD_VARIABLE = "FLEXSUPPLY_STAFF_PASSWORD"

staff = typer.Typer(no_args_is_help=True, add_completion=False, help="The fulfilment staff's board accounts.")


@staff.command()
def add(
    email: Annotated[str, typer.Argument(help="The login; kept lower-cased.")],
    name: Annotated[str, typer.Option(help="The name the board shows.")],
) -> None:
    """Add a staff account to the fulfilment database (migrated first). The password is asked for, hidden and twice,
    or read from FLEXSUPPLY_STAFF_PASSWORD when a script runs this."""
    import asyncio

    from flexsupply.cli.stack import load_service
    from flexsupply.contracts.errors import InvalidField
    from flexsupply.fulfilment.staff import StaffExists, check_password, create_account
    from flexsupply.kit.db import Database
    from flexsupply.kit.migrations import upgrade

    password = os.environ.get(PASSWORD_VARIABLE) or typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        check_password(password)
    except InvalidField as error:
        typer.echo(f"refused: {error}", err=True)
        raise typer.Exit(code=2) from error
    service = load_service("fulfilment")
    upgrade(service.migrations, service.database_url)

    async def create() -> None:
        database = Database(service.database_url, pooled=False)
        try:
            async with database.transaction() as session:
                await create_account(session, email, name, password)
        finally:
            await database.dispose()

    try:
        asyncio.run(create())
    except (InvalidField, StaffExists) as error:
        typer.echo(f"refused: {error}", err=True)
        raise typer.Exit(code=2) from error
    typer.echo(f"staff account {email.strip().lower()} added")
