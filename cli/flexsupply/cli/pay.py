"""`flexsupply test-payment`: the local test provider confirms a payment, as a real provider's callback would."""

from typing import Annotated

import typer


def test_payment(
    reference: Annotated[str, typer.Argument(help="The order's payment reference (FS-...).")],
    amount_cents: Annotated[int, typer.Argument(help="The amount paid, in minor units.")],
    url: Annotated[
        str | None,
        typer.Option(help="The matching service; default: the local stack on FLEXSUPPLY_HOST and FLEXSUPPLY_PORT."),
    ] = None,
) -> None:
    """Pay an order through the local test provider (for the demo and tests; no money moves)."""
    import httpx

    from flexsupply.cli.stack import ensure_operator_token
    from flexsupply.kit.settings import KitSettings
    from flexsupply.matching.payments import sign_test_payment

    settings = KitSettings()
    ensure_operator_token(settings)
    # `flexsupply up` may listen on every interface; a client reaches it on loopback.
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host
    base = (url or f"http://{host}:{settings.port}").rstrip("/")
    body, headers = sign_test_payment(KitSettings().require_operator_token(), reference, amount_cents)
    try:
        answer = httpx.post(f"{base}/api/v1/payments/test/callbacks", content=body, headers=headers)
    except httpx.HTTPError as error:
        typer.echo(
            f"error: cannot reach the matching service at {base} ({error}); is `flexsupply up` running there? "
            "Give its address with --url or FLEXSUPPLY_PORT.",
            err=True,
        )
        raise typer.Exit(code=1) from None
    typer.echo(answer.text)
    if answer.status_code != 200:
        raise typer.Exit(code=1)
