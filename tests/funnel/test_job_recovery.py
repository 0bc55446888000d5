"""Jobs that recover: an import whose worker is lost is started again by the sweep (exactly one
import's rows), a broker that is down answers 503 at once and the job waits for the queue, a
job lost JOB_MAX_ATTEMPTS times fails with the reason and runs again on request, and /healthz
reports the worker's heartbeat. The `redis` tests use real worker processes and kill one."""

import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from funnel.models import ImportJob, Lead, RawRecord
from funnel.services import import_checks, jobs, webhooks
from funnel.tasks import run_import, sweep_jobs
from salesplan import queue
from salesplan.celery import app as celery_app
from tests.funnel.jobs import job_of, media, ru_funnel, upload, write
from tests.funnel.test_webhooks import AMO_STAGE_MAP, create_integration, payload, post_webhook
from tests.workers import broker_at

pytestmark = [pytest.mark.usefixtures("media")]
__all__ = ["media", "ru_funnel"]

ROWS = 2_000
# Enough rows that the import runs for several seconds in a real worker (killed meanwhile).
BIG_ROWS = 5_000
DEADLINE_S = 120
# Nothing listens there: a broker that is down.
CLOSED_PORT_BROKER = "redis://127.0.0.1:1/0"


def leads_file(tmp_path: Path, rows: int = ROWS) -> Path:
    lines = "".join(f"T{i};01.11.2026;Лид;Сайт\n" for i in range(rows))
    return write(tmp_path / f"leads-{rows}.csv", "ID сделки;Дата создания;Этап;Канал\n" + lines)


def wait_for(job_id: int, *statuses: str) -> ImportJob:
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        job = ImportJob.objects.get(pk=job_id)
        if job.status in statuses:
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} is still {job.status}: {job.message}")


def lost_while_running(job_id: int, *, attempts: int = 1, language: str = "") -> None:
    """Given: a worker claimed the job and died (no heartbeat since, long ago); `language`:
    the one it was confirmed in (its messages are written in it)."""
    long_ago = timezone.now() - timedelta(seconds=django_settings.JOB_STALE_AFTER_S + 60)
    ImportJob.objects.filter(pk=job_id).update(
        status=ImportJob.Status.RUNNING,
        started_at=long_ago,
        heartbeat_at=long_ago,
        attempts=attempts,
        processed_rows=ROWS // 2,
        **({"language": language} if language else {}),
    )


def confirm(api: Any, job_id: int, **extra: Any) -> Any:
    return api.post(f"/api/v1/imports/{job_id}/confirm/", {}, format="json", **extra)


# --- a lost worker, inline (the queue runs tasks in this process) --------------------------


@pytest.mark.django_db
def test_an_import_whose_worker_was_lost_is_started_again_by_the_sweep(
    api, ru_funnel, tmp_path, django_capture_on_commit_callbacks
):
    body = upload(api, ru_funnel, leads_file(tmp_path))
    lost_while_running(body["id"])
    # when the sweep runs (Celery beat, every minute)
    with django_capture_on_commit_callbacks(execute=True):
        sweep_jobs()
    # then the import ran once more, to its end, with the rows of one import
    job = ImportJob.objects.get(pk=body["id"])
    assert job.status == ImportJob.Status.DONE, job.message
    assert job.attempts == 2
    assert job.counts["leads"]["inserted"] == ROWS
    assert Lead.objects.count() == ROWS


@pytest.mark.django_db
def test_a_running_import_that_beats_is_never_run_twice(api, ru_funnel, tmp_path):
    body = upload(api, ru_funnel, leads_file(tmp_path))
    lost_while_running(body["id"])
    ImportJob.objects.filter(pk=body["id"]).update(heartbeat_at=timezone.now())  # alive
    # when the sweep runs and the job's message is delivered again to another worker
    assert jobs.jobs_sweep() == jobs.Swept()
    run_import(body["id"])
    # then neither touched it: its worker goes on
    job = ImportJob.objects.get(pk=body["id"])
    assert (job.status, job.attempts) == (ImportJob.Status.RUNNING, 1)
    assert not Lead.objects.exists()


@pytest.mark.django_db
def test_a_redelivered_message_claims_a_stale_running_import(api, ru_funnel, tmp_path):
    body = upload(api, ru_funnel, leads_file(tmp_path))
    lost_while_running(body["id"])
    # when Celery delivers the lost run's message again (acks_late) before the sweep
    run_import(body["id"])
    job = ImportJob.objects.get(pk=body["id"])
    assert job.status == ImportJob.Status.DONE, job.message
    assert Lead.objects.count() == ROWS


@pytest.mark.django_db
def test_an_import_lost_too_often_fails_with_the_reason_and_runs_again(
    api, ru_funnel, tmp_path, client_for, head, django_capture_on_commit_callbacks
):
    body = upload(api, ru_funnel, leads_file(tmp_path))
    # (confirmed by someone reading English: the reason is written in their language)
    lost_while_running(body["id"], attempts=django_settings.JOB_MAX_ATTEMPTS, language="en")
    # when the sweep finds it lost for the last allowed time
    swept = jobs.jobs_sweep()
    # then it is failed with the reason, nothing written
    assert swept.failed == 1
    failed = job_of(api, body["id"])
    assert failed["status"] == "failed"
    assert not Lead.objects.exists()
    page = client_for(head)
    detail = page.get(reverse("import_detail", args=[body["id"]]), HTTP_ACCEPT_LANGUAGE="en")
    assert f"stopped {django_settings.JOB_MAX_ATTEMPTS} times" in detail.content.decode()
    assert reverse("import_run_again", args=[body["id"]]) in detail.content.decode()
    # when someone presses "Run again" (the API; the page's button posts the same service)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/api/v1/imports/{body['id']}/run-again/", format="json")
    assert response.status_code == 202, response.json()
    job = job_of(api, body["id"])
    assert job["status"] == "done", job["message"]
    assert job["attempts"] == 1
    assert Lead.objects.count() == ROWS


@pytest.mark.django_db
def test_the_run_again_button_of_the_page_starts_a_failed_import(
    api, ru_funnel, tmp_path, client_for, head, django_capture_on_commit_callbacks
):
    body = upload(api, ru_funnel, leads_file(tmp_path))
    ImportJob.objects.filter(pk=body["id"]).update(status=ImportJob.Status.FAILED, message="x")
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(head).post(reverse("import_run_again", args=[body["id"]]))
    assert response.status_code == 302
    assert job_of(api, body["id"])["status"] == "done"


@pytest.mark.django_db
def test_only_a_failed_import_runs_again(api, ru_funnel, tmp_path):
    body = upload(api, ru_funnel, leads_file(tmp_path))
    response = api.post(
        f"/api/v1/imports/{body['id']}/run-again/", format="json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    assert "status" in response.json()
    assert job_of(api, body["id"])["status"] == "preview"


@pytest.mark.django_db
def test_a_check_whose_worker_was_lost_is_started_again(
    api, ru_funnel, tmp_path, django_capture_on_commit_callbacks
):
    body = upload(api, ru_funnel, leads_file(tmp_path))
    long_ago = timezone.now() - timedelta(seconds=django_settings.JOB_STALE_AFTER_S + 60)
    ImportJob.objects.filter(pk=body["id"]).update(
        status=ImportJob.Status.CHECKING,
        changes={"token": "lost"},
        heartbeat_at=long_ago,
        started_at=long_ago,
        attempts=1,
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.jobs_sweep().checks == 1
    job = ImportJob.objects.get(pk=body["id"])
    assert job.status == ImportJob.Status.PREVIEW
    assert job.changes["tables"]["leads"]["new"] == ROWS
    # the lost run, should it ever come back, finds its token superseded and changes nothing
    import_checks.import_check_run(job_id=job.pk, token="lost")
    assert ImportJob.objects.get(pk=job.pk).changes == job.changes
    assert not Lead.objects.exists()


# --- a broker that is down, inline ------------------------------------------------------------


@pytest.fixture
def queue_not_inline():
    """Tasks go to the broker (not run in this process), as in production."""
    celery_app.conf.task_always_eager = False
    yield
    celery_app.conf.task_always_eager = True


@pytest.mark.django_db(transaction=True)
def test_a_broker_that_is_down_answers_503_and_the_import_waits_for_it(
    api, ru_funnel, tmp_path, queue_not_inline
):
    body = upload(api, ru_funnel, leads_file(tmp_path))
    # when the import is confirmed while the broker does not answer
    with broker_at(CLOSED_PORT_BROKER):
        response = confirm(api, body["id"], HTTP_ACCEPT_LANGUAGE="en")
    # then a 503 says so at once, and the job waits for the queue
    assert response.status_code == 503
    assert response.json()["code"] == "queue_unavailable"
    assert "queue" in response.json()["detail"]
    assert job_of(api, body["id"])["status"] == "waiting"
    # when the broker is back (tasks run here again) and the sweep runs
    celery_app.conf.task_always_eager = True
    assert jobs.jobs_sweep().queued == 1
    # then the import ran, once
    job = job_of(api, body["id"])
    assert job["status"] == "done", job["message"]
    assert Lead.objects.count() == ROWS


@pytest.mark.django_db(transaction=True)
def test_the_confirm_page_answers_503_with_the_reason_when_the_broker_is_down(
    api, ru_funnel, tmp_path, client_for, head, queue_not_inline
):
    body = upload(api, ru_funnel, leads_file(tmp_path))
    with broker_at(CLOSED_PORT_BROKER):
        response = client_for(head).post(
            reverse("import_confirm", args=[body["id"]]), HTTP_ACCEPT_LANGUAGE="en"
        )
    assert response.status_code == 503
    page = response.content.decode()
    assert "The job queue is not answering" in page
    assert "Waiting for the job queue" in page
    assert ImportJob.objects.get(pk=body["id"]).status == ImportJob.Status.WAITING


@pytest.mark.django_db(transaction=True)
def test_a_webhook_is_stored_and_answered_when_the_broker_is_down(api, funnel_id, queue_not_inline):
    amo = create_integration(api, kind="amocrm", funnel=funnel_id, stage_map=AMO_STAGE_MAP)
    with broker_at(CLOSED_PORT_BROKER):
        response = post_webhook(amo, payload("amocrm_lead_add.txt"))
    assert response.status_code == 200
    record = RawRecord.objects.get(pk=response.json()["record"])
    assert record.status == RawRecord.Status.RECEIVED
    # the webhooks' sweep queues it once the broker is back
    celery_app.conf.task_always_eager = True
    later = timezone.now() + webhooks.STUCK_AFTER + timedelta(seconds=1)
    assert webhooks.records_sweep(now=later) == 1
    record.refresh_from_db()
    assert record.status == RawRecord.Status.PROCESSED, record.error
    assert Lead.objects.filter(external_id="25399013").exists()


# --- /healthz -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_healthz_reports_the_workers_last_heartbeat(client):
    cache.delete(queue.WORKER_HEARTBEAT_KEY)
    silent = client.get(reverse("healthz")).json()
    assert silent["worker"]["last_heartbeat"] is None and silent["worker"]["late"] is True
    queue.worker_beat()  # what a worker does at start, on beat's schedule and per chunk read
    worker = client.get(reverse("healthz")).json()["worker"]
    assert worker["last_heartbeat"] is not None
    assert worker["late"] is False


@pytest.mark.django_db
def test_healthz_names_a_broker_that_is_down(client):
    with broker_at(CLOSED_PORT_BROKER):
        response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert "broker" in response.json()["down"]


# --- real workers (Redis) -------------------------------------------------------------------


@pytest.mark.redis
def test_a_killed_worker_s_import_finishes_after_a_restart_with_one_import_s_rows(
    celery_workers, api, ru_funnel, tmp_path, settings
):
    body = upload(api, ru_funnel, leads_file(tmp_path, BIG_ROWS))
    worker = celery_workers.start()
    assert confirm(api, body["id"]).status_code == 202
    # when the worker is killed (SIGKILL, its whole process group) while the import runs
    wait_for(body["id"], "running", "done", "failed")
    celery_workers.kill(worker)
    lost = ImportJob.objects.get(pk=body["id"])
    assert lost.status == ImportJob.Status.RUNNING, celery_workers.output(worker)
    # and a worker is started again, and the sweep finds the job silent
    celery_workers.start()
    settings.JOB_STALE_AFTER_S = 0  # instead of waiting minutes for the heartbeat to age
    assert sweep_jobs()["restarted"] == 1
    # then the import runs to its end, with exactly the rows of one import
    job = wait_for(body["id"], "done", "failed")
    assert job.status == ImportJob.Status.DONE, job.message
    assert job.attempts == 2
    assert job.counts["leads"]["inserted"] == BIG_ROWS  # the killed run wrote nothing
    leads = Lead.objects.filter(organization=ru_funnel.organization)
    assert leads.count() == BIG_ROWS
    assert leads.values("external_id").distinct().count() == BIG_ROWS


@pytest.mark.redis
def test_a_broker_that_is_down_then_back_finishes_the_import_in_a_real_worker(
    celery_worker, api, ru_funnel, tmp_path
):
    body = upload(api, ru_funnel, leads_file(tmp_path))
    with broker_at(CLOSED_PORT_BROKER):
        response = confirm(api, body["id"], HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 503
    assert response.json()["code"] == "queue_unavailable"
    assert ImportJob.objects.get(pk=body["id"]).status == ImportJob.Status.WAITING
    # the broker is back: the sweep publishes the job, the worker runs it
    assert sweep_jobs()["queued"] == 1
    job = wait_for(body["id"], "done", "failed")
    assert job.status == ImportJob.Status.DONE, job.message
    assert Lead.objects.filter(organization=ru_funnel.organization).count() == ROWS


@pytest.mark.redis
def test_healthz_shows_a_real_worker_s_heartbeat(celery_workers, client):
    cache.delete(queue.WORKER_HEARTBEAT_KEY)
    celery_workers.start()  # a worker that starts beats at once (worker_ready)
    body = client.get(reverse("healthz")).json()
    assert body["checks"]["broker"] == "ok"
    assert body["worker"]["last_heartbeat"] is not None
    assert body["worker"]["late"] is False
