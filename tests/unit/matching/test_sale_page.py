"""The sale page's template with a package that has a display name, a description and a photo (the leader's
console adds them), and with one that has none: both render; the share tags carry what the package has."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from uuid import uuid4

import pytest
from jinja2 import Environment, FileSystemLoader, select_autoescape

import flexsupply.matching
from flexsupply.kit import i18n
from flexsupply.matching.pages import TEMPLATES

OPENS = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
i18n.register_catalogues([Path(next(iter(flexsupply.matching.__path__))) / "locale"])


def render(**sale_fields: Any) -> str:
    environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape())
    i18n.install(environment)
    sale = SimpleNamespace(
        package_id=uuid4(),
        state="upcoming",
        left=5,
        regions=[SimpleNamespace(region="ningbo", cap=5, sold=0, left=5)],
        title="Sourdough box",
        sku="bread-box",
        spec="",
        currency="CNY",
        unit_price_cents=5900,
        opens_at=OPENS,
        closes_at=OPENS + timedelta(hours=1),
        per_buyer_limit=3,
        threshold_units=1,
        ending=None,
        **sale_fields,
    )
    request = SimpleNamespace(base_url="https://tuan.example/", url=SimpleNamespace(path=f"/sale/{sale.package_id}"))
    context = {
        "sale": sale,
        "item_name": getattr(sale, "display_name", None) or sale.title,
        "region_names": {"ningbo": "宁波"},
        "seconds_to_opening": 600,
        "countdown_text": "10:00",
        "orderable": False,
        "open_form": True,
        "idempotency_key": "k" * 24,
        "form": {},
        "message": None,
        "request": request,
    }
    return environment.get_template("sale.html").render(context)


def test_a_package_with_a_photo_and_a_description_shows_and_shares_them() -> None:
    html = render(display_name="手工酸面包", description="每天早上现烤", photo_url="/uploads/bread.jpg")
    assert "<h1>手工酸面包</h1>" in html and "每天早上现烤" in html
    assert 'class="photo" src="/uploads/bread.jpg"' in html
    assert '<meta property="og:title" content="手工酸面包">' in html
    assert '<meta property="og:image" content="https://tuan.example/uploads/bread.jpg">' in html
    assert '<meta name="description" content="每天早上现烤">' in html


@pytest.mark.parametrize("fields", [{}, {"display_name": None, "description": None, "photo_url": None}])
def test_a_package_without_them_shows_its_title_and_price(fields: dict[str, Any]) -> None:
    html = render(**fields)
    assert "<h1>Sourdough box</h1>" in html and 'class="photo"' not in html and "og:image" not in html
    assert "¥59.00" in html and "宁波" in html and 'lang="zh-CN"' in html
    assert '<meta property="og:description" content="每件 ¥59.00' in html
