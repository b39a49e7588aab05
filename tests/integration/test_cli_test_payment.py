"""`flexsupply test-payment` reaches the stack where it runs, and says so in one line when nothing listens there."""

import pytest
from typer.testing import CliRunner

from flexsupply.cli.main import app
from tests.support.fake_supplier import fake_supplier_server
from tests.support.processes import free_port

runner = CliRunner()


def test_a_refused_connection_is_one_line_of_error_not_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()  # nothing listens on it
    monkeypatch.setenv("FLEXSUPPLY_PORT", str(port))
    result = runner.invoke(app, ["test-payment", "FS-ABCD1234", "5900"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot reach") and f":{port}" in lines[0]
    assert "Traceback" not in result.output


@pytest.mark.parametrize("by", ["FLEXSUPPLY_PORT", "--url"])
def test_the_payment_goes_to_the_port_or_url_given(monkeypatch: pytest.MonkeyPatch, by: str) -> None:
    with fake_supplier_server() as stack:
        stack.body = b'{"payment_reference": "FS-ABCD1234", "status": "paid"}'
        port = stack.url.split(":")[-1].split("/")[0]
        arguments = ["test-payment", "FS-ABCD1234", "5900"]
        if by == "--url":
            arguments += ["--url", f"http://127.0.0.1:{port}"]
        else:
            monkeypatch.setenv("FLEXSUPPLY_PORT", port)
        result = runner.invoke(app, arguments)
    assert result.exit_code == 0, result.output
    (received,) = stack.received
    assert received.path == "/api/v1/payments/test/callbacks" and received.headers["webhook-signature"]
