"""A task's text and a call's comment through the events API (the way tasks and calls come in):
stored as sent, kept by a later batch that does not carry them, emptied only by one that sends
them empty, and checked against their limit."""

import pytest
from django.utils import translation

from funnel.importers.batch import NOTE_MAX_LENGTH
from funnel.models import Call, Task
from salesplan.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def seller(make_member):
    return make_member(Role.SALESPERSON)


def batch(funnel_id: int, email: str, *, task: dict | None = None, call: dict | None = None):
    return {
        "funnel": funnel_id,
        "leads": [{"external_id": "L1", "created_at": "2026-12-01T10:00:00+03:00"}],
        "tasks": [
            {
                "external_id": "T1",
                "lead_external_id": "L1",
                "member": email,
                "due_at": "2026-12-06T18:00:00+03:00",
                **(task or {}),
            }
        ],
        "calls": [
            {
                "external_id": "C1",
                "member": email,
                "lead_external_id": "L1",
                "at": "2026-12-01T11:00:00+03:00",
                "connected": True,
                **(call or {}),
            }
        ],
    }


def post(api, body):
    response = api.post("/api/v1/events/", body, format="json")
    assert response.status_code == 200, response.json()
    return response.json()


def test_text_and_comment_are_stored_as_sent(api, funnel_id, seller):
    post(
        api,
        batch(
            funnel_id,
            seller.user.email,
            task={"text": "  Согласовать КП с ЛПР  "},
            call={"comment": "Клиент просит скидку 5 %"},
        ),
    )
    assert Task.objects.get(external_id="T1").text == "Согласовать КП с ЛПР"
    assert Call.objects.get(external_id="C1").comment == "Клиент просит скидку 5 %"


def test_a_source_that_does_not_send_them_leaves_them_unknown(api, funnel_id, seller):
    # a CRM that exports no task texts or call comments: NULL, not judged by discipline
    post(api, batch(funnel_id, seller.user.email))
    assert Task.objects.get(external_id="T1").text is None
    assert Call.objects.get(external_id="C1").comment is None


def test_a_later_batch_without_them_keeps_them(api, funnel_id, seller):
    email = seller.user.email
    post(api, batch(funnel_id, email, task={"text": "Выставить счёт"}, call={"comment": "Ок"}))
    # when the task is done and the call re-sent, neither carrying text nor comment
    result = post(
        api, batch(funnel_id, email, task={"done_at": "2026-12-06T12:00:00+03:00"}, call={})
    )
    # then the task changed (done), its text did not; the call is unchanged
    assert result["counts"]["tasks"]["updated"] == 1
    task = Task.objects.get(external_id="T1")
    assert (task.text, task.done_at is not None) == ("Выставить счёт", True)
    assert Call.objects.get(external_id="C1").comment == "Ок"


def test_a_batch_that_sends_them_empty_empties_them(api, funnel_id, seller):
    email = seller.user.email
    post(api, batch(funnel_id, email, task={"text": "Выставить счёт"}, call={"comment": "Ок"}))
    post(api, batch(funnel_id, email, task={"text": ""}, call={"comment": None}))
    assert Task.objects.get(external_id="T1").text == ""
    assert Call.objects.get(external_id="C1").comment == ""


def test_a_text_over_the_limit_is_refused_naming_the_field(api, funnel_id, seller):
    body = batch(funnel_id, seller.user.email, task={"text": "я" * (NOTE_MAX_LENGTH + 1)})
    response = api.post("/api/v1/events/", body, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [(e["section"], e["index"], e["field"]) for e in errors] == [("tasks", 0, "text")]
    assert f"At most {NOTE_MAX_LENGTH} characters" in errors[0]["reason"]
    assert not Task.objects.exists()


def test_a_comment_that_is_not_text_is_refused(api, funnel_id, seller):
    body = batch(funnel_id, seller.user.email, call={"comment": {"text": "x"}})
    response = api.post("/api/v1/events/", body, format="json")
    assert response.status_code == 400
    assert [(e["section"], e["field"]) for e in response.json()["errors"]] == [("calls", "comment")]
