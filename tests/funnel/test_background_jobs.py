"""The embedded default (no Redis) runs a queued import in a background thread of the web
process: the request that confirms it returns while the job waits or runs, and the page shows
the same progress bar until it is done."""

import io
import threading
import time

import pytest
from django.core.management import call_command
from django.urls import reverse

from funnel.models import ImportJob, Lead
from salesplan import queue
from tests.funnel.jobs import job_of, media, ru_funnel, upload, write

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("media")]
__all__ = ["media", "ru_funnel"]

ROWS = 2_000
# A background job that does not finish in this long is broken, not slow.
DEADLINE_S = 60


def _leads_file(tmp_path):
    rows = "".join(f"T{i};01.11.2026;Лид;Сайт\n" for i in range(ROWS))
    return write(tmp_path / "leads.csv", "ID сделки;Дата создания;Этап;Канал\n" + rows)


def _wait_for(job_id: int, *statuses: str) -> ImportJob:
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        job = ImportJob.objects.get(pk=job_id)
        if job.status in statuses:
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} is still {job.status}")


@pytest.fixture
def in_thread(settings):
    settings.TASKS_IN_THREAD = True
    yield
    _drain()


def _drain() -> None:
    """Wait for the background thread's jobs, the follow-ups a load queues included (client
    base, discipline, plan vs fact, each queueing more as it commits), so none writes while
    the test's database is flushed. A no-op waits for everything queued before it; repeated
    until nothing more was queued meanwhile."""
    for _ in range(20):
        queue.background().submit(lambda: None).result(timeout=DEADLINE_S)
        if queue.background()._work_queue.empty():  # no public way to ask
            return


def test_a_confirmed_import_runs_in_the_background_with_progress(
    in_thread, api_for, client_for, head, ru_funnel, tmp_path
):
    api = api_for(head)
    body = upload(api, ru_funnel, _leads_file(tmp_path))
    # given the background thread busy with another job until we let it go
    release = threading.Event()
    queue.background().submit(release.wait, DEADLINE_S)
    # when the import is confirmed
    response = api.post(f"/api/v1/imports/{body['id']}/confirm/", {}, format="json")
    # then the request has returned, the job waiting its turn, nothing written yet
    assert response.status_code == 202, response.json()
    assert job_of(api, body["id"])["status"] == "queued"
    assert not Lead.objects.exists()
    client = client_for(head)
    page = client.get(reverse("import_detail", args=[body["id"]])).content.decode()
    assert 'role="progressbar"' in page and "hx-trigger" in page  # the bar polls
    # when the thread is free, the job runs and ends done, the page's bar at 100 %
    release.set()
    job = _wait_for(body["id"], "done", "failed")
    assert job.status == "done", job.message
    assert Lead.objects.count() == ROWS
    fragment = client.get(reverse("import_progress", args=[body["id"]]))
    assert fragment["HX-Refresh"] == "true"
    assert job_of(api, body["id"])["progress"]["percent"] == 100


def test_a_check_runs_in_the_background_too(in_thread, api_for, head, ru_funnel, tmp_path):
    api = api_for(head)
    body = upload(api, ru_funnel, _leads_file(tmp_path))
    release = threading.Event()
    queue.background().submit(release.wait, DEADLINE_S)
    response = api.post(f"/api/v1/imports/{body['id']}/check/", {}, format="json")
    assert response.status_code == 202
    assert job_of(api, body["id"])["status"] == "checking"
    release.set()
    job = _wait_for(body["id"], "preview")
    assert job.changes["tables"]["leads"]["new"] == ROWS
    assert not Lead.objects.exists()


def test_a_failing_job_does_not_stop_the_thread(
    in_thread, api_for, head, ru_funnel, tmp_path, media
):
    # given two confirmed imports waiting for the thread, the first one's file then lost
    api = api_for(head)
    broken = upload(api, ru_funnel, _leads_file(tmp_path))
    good = upload(api, ru_funnel, _leads_file(tmp_path))
    release = threading.Event()
    queue.background().submit(release.wait, DEADLINE_S)
    api.post(f"/api/v1/imports/{broken['id']}/confirm/", {}, format="json")
    api.post(f"/api/v1/imports/{good['id']}/confirm/", {}, format="json")
    ImportJob.objects.get(pk=broken["id"]).file.delete(save=False)
    release.set()
    # then the first ends failed with a reason and the second still runs
    failed = _wait_for(broken["id"], "done", "failed")
    assert failed.status == "failed" and failed.message
    assert _wait_for(good["id"], "done", "failed").status == "done"


def test_a_job_whose_file_is_gone_cannot_be_confirmed(api_for, head, ru_funnel, tmp_path):
    api = api_for(head)
    body = upload(api, ru_funnel, _leads_file(tmp_path))
    ImportJob.objects.filter(pk=body["id"]).update(file_info={}, file="imports/gone.csv")
    response = api.post(f"/api/v1/imports/{body['id']}/confirm/", {}, format="json")
    assert response.status_code == 400
    assert "file" in response.json()


def test_jobs_a_stopped_process_left_are_ended_with_the_reason(api_for, head, ru_funnel, tmp_path):
    # given an import that was running, one queued and a check under way when the server stopped
    api = api_for(head)
    ids = [upload(api, ru_funnel, _leads_file(tmp_path))["id"] for _ in range(4)]
    for pk, status in zip(ids, ("running", "queued", "checking", "done"), strict=True):
        ImportJob.objects.filter(pk=pk).update(status=status)
    # when the embedded server starts again (`make run` runs the command first)
    out = io.StringIO()
    call_command("recover_jobs", stdout=out)
    # then the imports are failed with the reason, the check reopened, a finished job untouched
    jobs = {job.pk: job for job in ImportJob.objects.filter(pk__in=ids)}
    assert [jobs[pk].status for pk in ids] == ["failed", "failed", "preview", "done"]
    assert "interrupted" in jobs[ids[0]].message or "прерван" in jobs[ids[0]].message
    assert "2 interrupted imports" in out.getvalue()


def test_a_job_queued_as_the_process_exits_runs_instead_of_being_lost(monkeypatch):
    # given a process whose background thread pool is shut down (a management command exiting
    # while its last job queues a follow-up as it commits)
    from concurrent.futures import ThreadPoolExecutor

    from salesplan.tasks import ping
    from tests.factories import OrganizationFactory

    organization = OrganizationFactory(name="Exiting")
    closed = ThreadPoolExecutor(max_workers=1)
    closed.shutdown()
    monkeypatch.setattr(queue, "_executor", closed)
    ran = []
    monkeypatch.setattr(queue, "_run", lambda task, args: ran.append((task.name, args)))
    # when a job is queued: then it runs here, and the caller's future is done
    future = queue.in_background(ping, (organization.pk,))
    assert ran == [("salesplan.ping", (organization.pk,))]
    assert future.done() and future.result() is None
