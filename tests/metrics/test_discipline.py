"""CRM discipline (metrics.discipline): each rule on a small hand-made fixture of leads, tasks
and calls, the generic-goal list, a source that exports no comments, what the job stores, and
nothing of another organization."""

from datetime import UTC, date, datetime, timedelta
from unittest import mock

import pytest

from funnel import signals as funnel_signals
from funnel.models import Call, Lead, Task
from metrics.discipline import (
    GENERIC_GOALS,
    discipline_refresh,
    discipline_refresh_started,
    goal_key,
    no_goal,
    states_no_goal,
)
from metrics.models import DisciplineDay, DisciplineItem, DisciplineKind
from metrics.tasks import refresh_all_discipline
from salesplan.models import Organization, Role
from tests.conftest import clear_own_cache
from tests.factories import FunnelFactory, LeadFactory, OrganizationFactory, PaymentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_queued_marks():
    """The debounce marks live in the cache, which outlives each test's database."""
    clear_own_cache()
    yield
    clear_own_cache()


# 12:00 UTC on 10 December 2026 is 15:00 in Moscow: the organization's day is 10 December.
NOW = datetime(2026, 12, 10, 12, tzinfo=UTC)
DAY = date(2026, 12, 10)


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 12, day, hour, tzinfo=UTC)


# --- the goal rule, pure ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "Позвонить",
        "позвонить!",
        "  ПЕРЕЗВОНИТЬ... ",
        "«Набрать»",
        "связаться.",
        "Call",
        "call back",
        "Call-back",
        "CALL   BACK!",
        "follow up",
        "Follow-up?",
        "—",
    ],
)
def test_empty_or_generic_text_states_no_goal(text):
    assert states_no_goal(text) is True


@pytest.mark.parametrize(
    "text",
    [
        "Позвонить клиенту: согласовать цену КП",
        "Перезвонить и назначить встречу на четверг",
        "call to confirm the demo",
        "Отправить договор",
    ],
)
def test_a_text_with_a_goal_states_one(text):
    assert states_no_goal(text) is False


def test_a_text_the_source_does_not_export_is_not_judged():
    assert states_no_goal(None) is False


def test_the_generic_list_is_written_as_the_rule_folds_it():
    # every entry is already folded, so the SQL IN and the Python check compare like with like
    assert all(goal_key(phrase) == phrase for phrase in GENERIC_GOALS)


def test_the_sql_rule_agrees_with_the_python_one(organization):
    # given tasks with every kind of text, and one whose source exports none
    texts = [
        "",
        " Позвонить! ",
        "«Набрать»",
        "Call-back",
        "follow up.",
        "Обсудить КП",
        None,
        "позвонить клиенту",
        "_",
        "Связаться\tс ЛПР",
    ]
    for n, text in enumerate(texts):
        Task.objects.create(
            organization=organization, source="api", external_id=f"T{n}", due_at=NOW, text=text
        )
    # when the database applies the rule
    flagged = set(
        Task.objects.filter(organization=organization)
        .filter(no_goal())
        .values_list("external_id", flat=True)
    )
    # then it flags exactly what states_no_goal flags
    assert flagged == {f"T{n}" for n, text in enumerate(texts) if states_no_goal(text)}
    assert flagged == {"T0", "T1", "T2", "T3", "T4", "T8"}


# --- the counts on a hand-made fixture --------------------------------------------------------


@pytest.fixture
def people(make_member):
    return {
        "anna": make_member(Role.SALESPERSON),
        "boris": make_member(Role.SALESPERSON),
    }


def _lead(funnel, external_id: str, responsible, **extra) -> Lead:
    return LeadFactory(
        funnel=funnel, external_id=external_id, responsible=responsible, created_at=at(1), **extra
    )


def _task(organization, external_id, *, lead=None, member=None, due, done=None, text=None):
    return Task.objects.create(
        organization=organization,
        source="api",
        external_id=external_id,
        lead=lead,
        member=member,
        due_at=due,
        done_at=done,
        text=text,
    )


def _call(organization, external_id, member, moment, comment, source="api"):
    return Call.objects.create(
        organization=organization,
        source=source,
        external_id=external_id,
        member=member,
        at=moment,
        connected=True,
        comment=comment,
    )


@pytest.fixture
def crm(organization, funnel, people):
    """Anna and Boris's leads, tasks and calls on 10 December (see each line)."""
    anna, boris = people["anna"], people["boris"]
    org = organization
    leads = {
        "L1": _lead(funnel, "L1", anna),  # open, with an open task: fine
        "L2": _lead(funnel, "L2", anna),  # open, its only task done: no next task
        "L3": _lead(funnel, "L3", anna),  # open, no task at all: no next task
        "L4": _lead(funnel, "L4", anna, lost_at=at(5)),  # lost: closed
        "L5": _lead(funnel, "L5", anna),  # won (paid below): closed
        "L6": _lead(funnel, "L6", boris),  # open, with an overdue open task: has a next task
        "L7": _lead(funnel, "L7", boris, is_target=False),  # non-target: needs no next task
        "L8": _lead(funnel, "L8", None),  # nobody responsible, no task
    }
    PaymentFactory(lead=leads["L5"])
    _task(org, "T1", lead=leads["L1"], member=anna, due=at(11), text="Обсудить КП и встречу")
    _task(org, "T2", lead=leads["L2"], member=anna, due=at(3), done=at(3), text="")
    _task(org, "T6", lead=leads["L6"], member=boris, due=at(9), text="Позвонить!")
    _task(org, "T9", lead=leads["L6"], member=boris, due=at(12), text="  call   back. ")
    _task(org, "T10", lead=leads["L6"], member=boris, due=at(12))  # text not exported
    # no member of its own: Anna's, through her lead; overdue and empty
    _task(org, "T11", lead=leads["L1"], due=at(1), text="")
    _task(org, "T12", member=anna, due=at(20), text="Позвонить клиенту: обсудить цену")
    _call(org, "C1", anna, at(9), "")  # exported, empty: counted
    _call(org, "C2", anna, at(9), "Договорились о встрече")  # exported, with a comment
    _call(org, "C3", anna, at(9), None)  # this source exports no comments: not judged
    _call(org, "C4", anna, at(1), " ")  # empty but older than the week judged
    _call(org, "C5", boris, at(9), None, source="bitrix24")  # exports no comments
    return leads


@pytest.fixture
def elsewhere():
    """Another organization's open lead with no task, and an overdue task."""
    other = OrganizationFactory(name="Rival")
    lead = LeadFactory(funnel=FunnelFactory(organization=other), external_id="X1")
    _task(other, "X1", lead=None, due=at(1), text="")
    return lead


def _day(organization, member) -> DisciplineDay:
    return DisciplineDay.objects.get(organization=organization, member=member, day=DAY)


def test_counts_per_member_by_each_rule(organization, people, crm, elsewhere):
    # when the job counts on 10 December
    discipline_refresh(organization_id=organization.pk, now=NOW)
    anna = _day(organization, people["anna"])
    boris = _day(organization, people["boris"])
    nobody = _day(organization, None)
    # then Anna: L2 and L3 have no next task; T11 is overdue and empty; C1 has no comment
    assert (anna.leads_without_next_task, anna.open_leads) == (2, 3)
    assert (anna.overdue_tasks, anna.tasks_without_goal, anna.open_tasks) == (1, 1, 3)
    assert (anna.calls_without_comment, anna.calls_judged) == (1, 2)
    assert anna.total == 5
    # Boris: L6 has its next task (overdue or not); T6 is overdue and only «Позвонить!»; T9
    # only "call back"; T10's text is not exported; his calls' source exports no comments
    assert (boris.leads_without_next_task, boris.open_leads) == (0, 1)
    assert (boris.overdue_tasks, boris.tasks_without_goal, boris.open_tasks) == (1, 2, 3)
    assert (boris.calls_without_comment, boris.calls_judged) == (0, 0)
    # the lead nobody is responsible for
    assert (nobody.leads_without_next_task, nobody.open_leads) == (1, 1)
    # another organization's rows are nowhere
    assert not DisciplineDay.objects.filter(organization=elsewhere.organization).exists()
    assert DisciplineDay.objects.filter(organization=organization).count() == 3


def test_the_items_name_each_offending_lead_task_and_call(organization, people, crm):
    discipline_refresh(organization_id=organization.pk, now=NOW)
    items = DisciplineItem.objects.filter(organization=organization)

    def named(kind, member):
        rows = items.filter(kind=kind, member=member)
        return sorted(
            (r.lead.external_id if r.lead else "")
            + "/"
            + (r.task.external_id if r.task else "")
            + (r.call.external_id if r.call else "")
            for r in rows.select_related("lead", "task", "call")
        )

    anna, boris = people["anna"], people["boris"]
    assert named(DisciplineKind.LEAD_WITHOUT_NEXT_TASK, anna) == ["L2/", "L3/"]
    assert named(DisciplineKind.LEAD_WITHOUT_NEXT_TASK, None) == ["L8/"]
    assert named(DisciplineKind.OVERDUE_TASK, anna) == ["L1/T11"]
    assert named(DisciplineKind.OVERDUE_TASK, boris) == ["L6/T6"]
    assert named(DisciplineKind.TASK_WITHOUT_GOAL, boris) == ["L6/T6", "L6/T9"]
    assert named(DisciplineKind.CALL_WITHOUT_COMMENT, anna) == ["/C1"]
    assert items.count() == 2 + 1 + 1 + 1 + 1 + 2 + 1


def test_a_rerun_replaces_and_a_mended_crm_counts_zero(organization, people, crm):
    # given a first run
    discipline_refresh(organization_id=organization.pk, now=NOW)
    # when Anna's empty overdue task is done, L2 and L3 get next tasks with goals, and the
    # job runs again the same day
    Task.objects.filter(external_id="T11").update(done_at=NOW)
    for n, lead in enumerate((crm["L2"], crm["L3"])):
        _task(organization, f"N{n}", lead=lead, member=people["anna"], due=at(15), text="Счёт")
    discipline_refresh(organization_id=organization.pk, now=NOW + timedelta(hours=1))
    # then the day's row is replaced, not added to
    anna = _day(organization, people["anna"])
    assert (anna.leads_without_next_task, anna.overdue_tasks, anna.tasks_without_goal) == (0, 0, 0)
    assert DisciplineDay.objects.filter(organization=organization, day=DAY).count() == 3
    assert not DisciplineItem.objects.filter(
        organization=organization, member=people["anna"], kind=DisciplineKind.OVERDUE_TASK
    ).exists()


def test_the_run_moves_the_organizations_figures_version(organization, crm):
    before = Organization.objects.get(pk=organization.pk).figures_version
    discipline_refresh(organization_id=organization.pk, now=NOW)
    assert Organization.objects.get(pk=organization.pk).figures_version == before + 1


def test_the_day_is_the_organizations_local_day(organization, people, crm):
    # 22:30 UTC on 10 December is 01:30 on 11 December in Moscow
    discipline_refresh(
        organization_id=organization.pk, now=datetime(2026, 12, 10, 22, 30, tzinfo=UTC)
    )
    assert set(DisciplineDay.objects.values_list("day", flat=True)) == {date(2026, 12, 11)}


def test_a_load_announced_queues_the_count(
    organization, people, crm, django_capture_on_commit_callbacks
):
    # given tasks run inline (the tests' default), when a load is announced and commits
    with django_capture_on_commit_callbacks(execute=True):
        funnel_signals.actuals_loaded.send(
            sender=None, organization_id=organization.pk, funnel_id=crm["L1"].funnel_id
        )
    # then the organization's discipline was counted
    assert DisciplineDay.objects.filter(organization=organization).exists()


def test_the_beat_counts_every_organization_with_actuals(
    organization, crm, elsewhere, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert refresh_all_discipline() >= 2
    assert DisciplineDay.objects.filter(organization=elsewhere.organization).exists()
    assert DisciplineDay.objects.filter(organization=organization).exists()


def test_the_beat_counts_hourly(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["metrics.refresh_all_discipline"]
    assert entry["task"] == refresh_all_discipline.name == "metrics.refresh_all_discipline"
    assert entry["schedule"] == 3600.0


def test_the_lists_keep_the_oldest_rows_up_to_the_cap_and_the_counts_are_whole(
    organization, funnel, people, monkeypatch
):
    # given five of Anna's open leads with no task, created on the 1st to the 5th
    for day in range(1, 6):
        LeadFactory(
            funnel=funnel, external_id=f"K{day}", responsible=people["anna"], created_at=at(day)
        )
    # when the job keeps at most three rows a list
    monkeypatch.setattr("metrics.discipline.ITEMS_PER_LIST", 3)
    discipline_refresh(organization_id=organization.pk, now=NOW)
    # then the count is all five, the list the three oldest
    assert _day(organization, people["anna"]).leads_without_next_task == 5
    kept = DisciplineItem.objects.filter(member=people["anna"]).order_by("at")
    assert [item.lead.external_id for item in kept] == ["K1", "K2", "K3"]


def test_a_burst_of_loads_queues_one_count(organization, crm):
    # given three loads announced within a minute
    with mock.patch("salesplan.queue.enqueue") as enqueue:
        for _ in range(3):
            funnel_signals.actuals_loaded.send(
                sender=None, organization_id=organization.pk, funnel_id=crm["L1"].funnel_id
            )
    # then one job is queued; once it starts, the next load queues another
    assert _counts_queued(enqueue) == 1
    discipline_refresh_started(organization_id=organization.pk)
    with mock.patch("salesplan.queue.enqueue") as enqueue:
        funnel_signals.actuals_loaded.send(
            sender=None, organization_id=organization.pk, funnel_id=crm["L1"].funnel_id
        )
    assert _counts_queued(enqueue) == 1


def _counts_queued(enqueue: mock.Mock) -> int:
    return sum(1 for c in enqueue.call_args_list if c.args[0] == "metrics.refresh_discipline")
