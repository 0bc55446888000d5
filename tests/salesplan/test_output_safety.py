"""What the app writes for other programs stays harmless there: Plotly labels are escaped (no
live link from a stage's or a person's name), spreadsheet cells never start a formula (OWASP
CSV injection), and no log line carries a webhook secret or an invitation token."""

import csv
import io
import json
import logging
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from funnel.models import Integration
from responsibility.charts import pie_sunburst
from responsibility.selectors import pie_tree
from salesplan.logs import mask_secrets
from salesplan.models import Invitation, Role
from salesplan.output import spreadsheet_cell
from salesplan.plans import charts, selectors
from tests.factories import FunnelFactory, PlanFactory
from tests.worked_example import SERVICE_STAGES

pytestmark = pytest.mark.django_db

EVIL = '<a href="http://evil">x</a>'
LIVE_LINK = re.compile(r"<a[\s>]", re.IGNORECASE)


@pytest.fixture
def evil_plan(organization, make_member):
    """A plan whose key stage, last stage and salesperson carry an HTML link in their names."""
    stages = [dict(stage) for stage in SERVICE_STAGES]
    stages[3]["name"] = f"Meeting {EVIL}"  # the key stage
    stages[4]["name"] = f"Paid {EVIL}"
    funnel = FunnelFactory(organization=organization, stages=stages)
    seller = make_member(Role.SALESPERSON, salesperson_kind="hunter", user__first_name=EVIL)
    return PlanFactory(organization=organization, funnel=funnel, team=[(seller, "1")])


def test_plan_charts_show_a_stage_name_as_text_not_a_link(evil_plan):
    # given a plan whose stages are named with an <a href>
    decomposition = selectors.decompose_plan(evil_plan).decomposition
    # when its charts are built
    for figure in (charts.funnel_chart(decomposition), charts.daily_chart(decomposition)):
        text = json.dumps(figure)
        # then the name is there, escaped, and nothing in the figure is a live link
        assert "&lt;a href=" in text
        assert not LIVE_LINK.search(text)


def test_the_pie_shows_a_person_and_a_stage_as_text_not_a_link(evil_plan):
    figure = pie_sunburst(pie_tree(evil_plan), dict(Role.choices))
    labels = json.loads(figure)["data"][0]["labels"]
    assert any("&lt;a href=" in label for label in labels)
    assert not LIVE_LINK.search(figure)


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://evil","x")', '\'=HYPERLINK("http://evil","x")'),
        ("+7 999", "'+7 999"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Anna", "Anna"),
        ("", ""),
        (-5, -5),  # a number stays a number
        (None, None),
    ],
)
def test_a_spreadsheet_cell_never_starts_a_formula(value, written):
    assert spreadsheet_cell(value) == written


def test_the_import_error_report_neutralises_formulas(
    api_for, head, funnel, tmp_path, django_capture_on_commit_callbacks
):
    # given a file whose bad cells are formulas
    export = tmp_path / "deals.csv"
    export.write_text(
        "id,created,stage\n"
        'D-1,"=HYPERLINK(""http://evil"",""x"")",Lead\n'
        "D-2,@SUM(1),Lead\n"
        "D-3,-1+2,Lead\n",
        encoding="utf-8",
    )
    api = api_for(head)
    with open(export, "rb") as handle:
        body = api.post(
            "/api/v1/imports/", {"file": handle, "funnel": funnel.pk}, format="multipart"
        ).json()
    stage_map = {s["value"]: s["maps_to"] for s in body["preview"]["crm_stages"]}
    with django_capture_on_commit_callbacks(execute=True):
        api.post(f"/api/v1/imports/{body['id']}/confirm/", {"stage_map": stage_map}, format="json")
    # when the error report is downloaded
    report = api.get(f"/api/v1/imports/{body['id']}/errors/")
    assert report.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(report.streaming_content).decode("utf-8-sig"))))
    # then every bad value is there, as text a spreadsheet will not run
    values = {row[2] for row in rows[1:]}
    assert {'\'=HYPERLINK("http://evil","x")', "'@SUM(1)", "'-1+2"} <= values
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_mask_secrets_hides_webhook_secrets_and_invitation_tokens():
    line = (
        '"POST /api/v1/integrations/amocrm/s3cr3t-amo/ HTTP/1.1" 404 '
        '"https://app.example.com/invite/t0ken-123/?next=/" '
        "https://acme.bitrix24.ru/rest/1/c0de-b24/crm.deal.get /api/v1/integrations/7/"
    )
    masked = mask_secrets(line)
    for secret in ("s3cr3t-amo", "t0ken-123", "c0de-b24"):
        assert secret not in masked
    assert "/api/v1/integrations/amocrm/***/" in masked
    assert "/invite/***/?next=/" in masked
    assert "/rest/1/***/crm.deal.get" in masked
    assert "/api/v1/integrations/7/" in masked  # an id is no secret


def _logged(caplog) -> str:
    return "\n".join(record.getMessage() for record in caplog.records)


def test_django_request_logs_carry_no_webhook_secret(client, funnel, caplog):
    # given a real integration's secret and a wrong one
    integration = Integration.objects.create(
        organization=funnel.organization, kind="amocrm", funnel=funnel, secret="real-s3cret-42"
    )
    with caplog.at_level(logging.INFO):
        # when the CRM posts something we cannot parse, and someone guesses a secret
        bad = client.post(
            f"/api/v1/integrations/amocrm/{integration.secret}/",
            "{not a form",
            content_type="application/json",
        )
        wrong = client.post("/api/v1/integrations/amocrm/guessed-s3cret/", {})
    # then the answers are logged, without either secret
    assert (bad.status_code, wrong.status_code) == (400, 404)
    logged = _logged(caplog)
    assert "/api/v1/integrations/amocrm/***/" in logged
    assert "real-s3cret-42" not in logged and "guessed-s3cret" not in logged


def test_django_request_logs_carry_no_invitation_token(client, owner, caplog):
    # given an invitation that expired
    invitation = Invitation.objects.create(
        organization=owner.organization,
        email="late@example.com",
        role=Role.VIEWER,
        expires_at=timezone.now() - timedelta(days=1),
    )
    with caplog.at_level(logging.INFO):
        gone = client.get(f"/invite/{invitation.token}/")
        missing = client.get("/invite/not-a-real-token-77/")
    assert (gone.status_code, missing.status_code) == (410, 404)
    logged = _logged(caplog)
    assert "/invite/***/" in logged
    assert invitation.token not in logged and "not-a-real-token-77" not in logged


def test_the_development_server_log_carries_no_token(caplog):
    # runserver's request lines go through the `django.server` logger
    server = logging.getLogger("django.server")
    server.addHandler(caplog.handler)  # it does not propagate to the root
    try:
        server.info('"%s" %s %s', "GET /invite/t0ken-xyz/ HTTP/1.1", "404", "179")
    finally:
        server.removeHandler(caplog.handler)
    assert "t0ken-xyz" not in _logged(caplog)
    assert '"GET /invite/***/ HTTP/1.1" 404 179' in _logged(caplog)
