"""A big upload is read for its preview by a job, not in the request
(IMPORT_INSPECT_INLINE_MB): the upload answers at once with the job "reading the file", its
page shows the progress bar until the preview is there (or the reason the file cannot be read);
a reading whose worker was lost is read again by the sweep; with no queue at all the request
reads it itself."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.urls import reverse
from django.utils import timezone

from funnel.models import ImportJob
from funnel.services import imports, jobs
from salesplan.celery import app as celery_app
from tests.funnel.jobs import job_of, media, ru_funnel, upload, write
from tests.workers import broker_at

pytestmark = [pytest.mark.usefixtures("media")]
__all__ = ["media", "ru_funnel"]

ROWS = 300
CLOSED_PORT_BROKER = "redis://127.0.0.1:1/0"


@pytest.fixture(autouse=True)
def every_upload_in_the_background(settings):
    settings.IMPORT_INSPECT_INLINE_MB = 0  # any file is "big"


def leads_file(tmp_path: Path) -> Path:
    lines = "".join(f"T{i};01.11.2026;Лид;Сайт\n" for i in range(ROWS))
    return write(tmp_path / "leads.csv", "ID сделки;Дата создания;Этап;Канал\n" + lines)


@pytest.mark.django_db
def test_a_big_upload_is_read_by_a_job_and_then_previewed(
    api, ru_funnel, tmp_path, django_capture_on_commit_callbacks
):
    # when a big file is uploaded (the job queued, not yet run)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        body = upload(api, ru_funnel, leads_file(tmp_path))
    # then the answer comes at once, the file "being read", and nothing can be confirmed yet
    assert body["status"] == "inspecting"
    assert len(queued) == 1
    preview = api.get(f"/api/v1/imports/{body['id']}/preview/", HTTP_ACCEPT_LANGUAGE="en")
    assert preview.status_code == 400
    assert "still being read" in preview.json()["file"][0]
    confirm = api.post(
        f"/api/v1/imports/{body['id']}/confirm/", {}, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert confirm.status_code == 400
    assert "still being read" in confirm.json()["file"][0]
    # when the job runs
    queued[0]()
    # then the preview is there, as a small upload's would be
    job = job_of(api, body["id"])
    assert job["status"] == "preview"
    assert job["total_rows"] == ROWS
    preview = api.get(f"/api/v1/imports/{body['id']}/preview/").json()
    assert "Этап" in preview["headers"]


@pytest.mark.django_db
def test_the_page_shows_the_progress_bar_while_the_file_is_read(
    client_for, head, ru_funnel, tmp_path, django_capture_on_commit_callbacks
):
    page = client_for(head)
    with (
        django_capture_on_commit_callbacks(execute=False) as queued,
        open(leads_file(tmp_path), "rb") as handle,
    ):
        response = page.post(
            reverse("import_list"),
            {"funnel": ru_funnel.pk, "file": handle, "preset": ""},
            HTTP_ACCEPT_LANGUAGE="en",
        )
    assert response.status_code == 302
    job = ImportJob.objects.get()
    detail = page.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "reading the file for its preview" in detail
    assert reverse("import_progress", args=[job.pk]) in detail  # htmx polls it
    polled = page.get(reverse("import_progress", args=[job.pk]))
    assert "HX-Refresh" not in polled
    queued[0]()
    polled = page.get(reverse("import_progress", args=[job.pk]))
    assert polled["HX-Refresh"] == "true"  # the whole page: the preview and its form


@pytest.mark.django_db
def test_a_big_file_that_cannot_be_read_fails_with_the_reason_and_is_removed(
    api, ru_funnel, tmp_path, media, django_capture_on_commit_callbacks
):
    bad = write(tmp_path / "deals.csv", 'ID сделки;Этап\n1;"never closed\n2;Лид\n')
    with django_capture_on_commit_callbacks(execute=True):
        body = upload(api, ru_funnel, bad)
    job = ImportJob.objects.get(pk=body["id"])
    assert job.status == ImportJob.Status.FAILED
    assert job.message  # the reader's reason (the line with the open quote)
    assert not job.file
    assert not any(path.is_file() for path in Path(media).rglob("*"))


@pytest.mark.django_db
def test_a_reading_whose_worker_was_lost_is_read_again_by_the_sweep(
    api, ru_funnel, tmp_path, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        body = upload(api, ru_funnel, leads_file(tmp_path))  # its job lost with the worker
    long_ago = timezone.now() - timedelta(seconds=django_settings.JOB_STALE_AFTER_S + 60)
    ImportJob.objects.filter(pk=body["id"]).update(heartbeat_at=long_ago, attempts=1)
    with django_capture_on_commit_callbacks(execute=True):
        swept = jobs.jobs_sweep()
    assert swept.inspections == 1
    assert job_of(api, body["id"])["status"] == "preview"


@pytest.mark.django_db
def test_a_reading_lost_too_often_fails_with_the_reason(api, ru_funnel, tmp_path, settings):
    long_ago = timezone.now() - timedelta(seconds=settings.JOB_STALE_AFTER_S + 60)
    body_path = leads_file(tmp_path)
    settings.IMPORT_INSPECT_INLINE_MB = 1000  # stored and read at once, then made "lost"
    body = upload(api, ru_funnel, body_path)
    ImportJob.objects.filter(pk=body["id"]).update(
        status=ImportJob.Status.INSPECTING,
        heartbeat_at=long_ago,
        attempts=settings.JOB_MAX_ATTEMPTS,
        language="en",
    )
    assert jobs.jobs_sweep().inspections == 1
    job = ImportJob.objects.get(pk=body["id"])
    assert job.status == ImportJob.Status.FAILED
    assert f"stopped {settings.JOB_MAX_ATTEMPTS} times" in job.message


@pytest.mark.django_db
def test_a_stopped_server_leaves_no_file_being_read(api, ru_funnel, tmp_path):
    # given a file being read when the server (the embedded default's thread) stopped
    body = upload(api, ru_funnel, leads_file(tmp_path))
    ImportJob.objects.filter(pk=body["id"]).update(status=ImportJob.Status.INSPECTING)
    failed, _reopened = imports.jobs_interrupted()
    assert failed == 1
    assert ImportJob.objects.get(pk=body["id"]).status == ImportJob.Status.FAILED


@pytest.mark.django_db(transaction=True)
def test_with_the_queue_down_the_upload_is_read_in_its_request(api, ru_funnel, tmp_path):
    celery_app.conf.task_always_eager = False
    try:
        with broker_at(CLOSED_PORT_BROKER):
            body = upload(api, ru_funnel, leads_file(tmp_path))
    finally:
        celery_app.conf.task_always_eager = True
    assert body["status"] == "preview"
    assert body["total_rows"] == ROWS


@pytest.mark.django_db
def test_a_short_file_with_a_quote_never_closed_is_a_400_read_in_the_request(
    api, ru_funnel, tmp_path, media, settings
):
    # (pandas parses a short file whole as its reader opens: that was a 500)
    settings.IMPORT_INSPECT_INLINE_MB = 1000
    bad = write(tmp_path / "deals.csv", 'ID сделки;Этап\n1;"never closed\n2;Лид\n')
    with open(bad, "rb") as handle:
        response = api.post(
            "/api/v1/imports/",
            {"file": handle, "funnel": ru_funnel.pk},
            format="multipart",
            HTTP_ACCEPT_LANGUAGE="en",
        )
    assert response.status_code == 400
    assert "quote" in response.json()["file"][0]
    assert not ImportJob.objects.exists()
    assert not any(path.is_file() for path in Path(media).rglob("*"))
