"""Helpers of the import tests that go through the API: a funnel with Russian stages, uploads,
checks and confirmations with the queued task run on commit (inline in unit tests)."""

import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.factories import FunnelFactory

FIXTURES = Path(__file__).parent / "fixtures"
CRM_FIXTURES = FIXTURES / "crm"
STAGES = [
    {"name": "Лид", "conversion": Decimal("0.6")},
    {"name": "Целевой лид", "conversion": Decimal("0.3"), "is_target_lead": True},
    {"name": "Встреча назначена", "conversion": Decimal("0.8")},
    {"name": "Встреча проведена", "conversion": Decimal("0.4"), "is_key_stage": True},
    {"name": "Оплата"},
]


@pytest.fixture
def ru_funnel(organization):
    return FunnelFactory(organization=organization, name="B2B", stages=STAGES)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    yield settings.MEDIA_ROOT
    shutil.rmtree(tmp_path / "media", ignore_errors=True)


def upload(api: Any, funnel: Any, path: Path) -> dict:
    with open(path, "rb") as handle:
        response = api.post(
            "/api/v1/imports/", {"file": handle, "funnel": funnel.pk}, format="multipart"
        )
    assert response.status_code == 201, response.json()
    return response.json()


def post_job(api: Any, capture: Any, job_id: int, action: str, **settings: Any) -> Any:
    """POST confirm/ or check/ with `settings`, running the queued task on commit."""
    with capture(execute=True):
        return api.post(f"/api/v1/imports/{job_id}/{action}/", settings, format="json")


def job_of(api: Any, job_id: int) -> dict:
    return api.get(f"/api/v1/imports/{job_id}/").json()


def imported(api: Any, capture: Any, funnel: Any, path: Path, **settings: Any) -> dict:
    """Upload `path`, confirm it with `settings`; the finished job."""
    body = upload(api, funnel, path)
    response = post_job(api, capture, body["id"], "confirm", **settings)
    assert response.status_code == 202, response.json()
    return job_of(api, body["id"])


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path
