"""The `flexsupply` command: run the stack, its parts, migrations and the optimizer."""

import typer

from flexsupply.cli.match import match

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
app.command()(match)
