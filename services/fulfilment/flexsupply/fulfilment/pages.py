"""The fulfilment service's web pages: the staff's board and the buyer's delivery page (server-rendered)."""

from pathlib import Path
from typing import Any

from flexsupply.fulfilment.settings import FulfilmentSettings

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"


def routes(settings: FulfilmentSettings) -> list[Any]:
    return []
