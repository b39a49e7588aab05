"""`flexsupply test-payment`: the local test provider confirms a payment, as a real provider's callback would."""

from typing import Annotated

import typer


def test_payment(
    reference: Annotated[str, typer.Argument(help="The order's payment reference (FS-...).")],
    amount_cents: Annotated[int, typer.Argument(help="The amount paid, in minor units.")],
    url: Annotated[str, typer.Option(help="The matching service.")] = "http://127.0.0.1:8000",
) -> None:
    """Pay an order through the local test provider (for the demo and tests; no money moves)."""
    import httpx

    from flexsupply.cli.stack import ensure_operator_token
    from flexsupply.kit.settings import KitSettings
    from flexsupply.matching.payments import sign_test_payment

    settings = KitSettings()
    ensure_operator_token(settings)
    body, headers = sign_test_payment(KitSettings().require_operator_token(), reference, amount_cents)
    answer = httpx.post(f"{url}/api/v1/payments/test/callbacks", content=body, headers=headers)
    typer.echo(answer.text)
    if answer.status_code != 200:
        raise typer.Exit(code=1)
