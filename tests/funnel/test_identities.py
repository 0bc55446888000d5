"""One identity per person and channel: a webhook names the owner `b24:7` and the channel
`WEB`, a file "Анна Смирнова" and «Веб-сайт»; linked on the page or learned from a file that
carries both, every path gives the same lead the same owner and channel, and the leads loaded
before the identity was made follow it."""

import pytest
from django.db import transaction
from django.urls import reverse

from funnel.ingest.loader import load_frames
from funnel.models import Identity, Lead, Payment
from funnel.services import identities
from salesplan.models import Role
from tests.factories import FunnelFactory, MembershipFactory, OrganizationFactory
from tests.funnel.frames import frame, lead
from tests.funnel.jobs import CRM_FIXTURES, imported, media, ru_funnel, write

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]
__all__ = ["media", "ru_funnel"]


@pytest.fixture
def anna(make_member):
    member = make_member(Role.SALESPERSON)
    member.user.first_name, member.user.last_name = "Анна", "Смирнова"
    member.user.save()
    return member


def webhook_load(organization, funnel, rows):
    """What the Bitrix24 webhook path loads: the owner as `b24:<id>`, the channel as a code."""
    with transaction.atomic():
        return load_frames(
            organization=organization,
            funnel=funnel,
            source="bitrix24",
            frames={"leads": frame("leads", rows)},
        )


def test_a_webhook_lead_is_reattributed_when_its_owner_is_linked(
    organization, ru_funnel, anna, client_for, head
):
    # given a won deal that came by webhook, its owner a Bitrix24 user id nobody knows yet
    webhook_load(
        organization,
        ru_funnel,
        [lead(1, "901", 4, responsible="b24:7", channel="WEB", won=True, amount="50000")],
    )
    stored = Lead.objects.get(external_id="901")
    assert stored.responsible_id is None and stored.responsible_name == "b24:7"
    # and Bitrix24's standard source code is the channel's name already
    assert stored.channel == "Веб-сайт"
    # when the head of sales links b24:7 to Anna on the page
    client = client_for(head)
    page = client.get(reverse("identity_list"))
    assert "b24:7" in page.content.decode()
    response = client.post(
        reverse("identity_person"), {"written": "b24:7", "membership": anna.pk}, follow=True
    )
    # then the stored lead, its payment and its stage events are Anna's
    assert response.status_code == 200
    stored.refresh_from_db()
    assert stored.responsible_id == anna.pk
    assert Payment.objects.get(external_id="901").credited_member_id == anna.pk
    assert set(stored.stage_events.values_list("member_id", flat=True)) == {anna.pk}
    # and the next webhook about her is hers at once
    webhook_load(organization, ru_funnel, [lead(1, "902", 0, responsible="b24:7")])
    assert Lead.objects.get(external_id="902").responsible_id == anna.pk


def test_a_file_with_the_user_id_and_the_name_teaches_who_the_id_is(
    organization, ru_funnel, anna, api_for, head, tmp_path, django_capture_on_commit_callbacks
):
    # given a lead that came by webhook under b24:7
    webhook_load(organization, ru_funnel, [lead(1, "801", 0, responsible="b24:7")])
    assert Lead.objects.get(external_id="801").responsible_id is None
    # when a Bitrix24 export with «ID ответственного» beside «Ответственный» is imported
    path = write(
        tmp_path / "deals.csv",
        "ID;Название сделки;Стадия сделки;Сумма;Ответственный;ID ответственного;Дата создания\n"
        "802;Стеллажи;Новая;1000;Анна Смирнова;7;01.11.2026 10:00:00\n"
        "803;Полки;Новая;1000;;7;02.11.2026 10:00:00\n",
    )
    job = imported(
        api_for(head),
        django_capture_on_commit_callbacks,
        ru_funnel,
        path,
        stage_map={"Новая": "Лид"},
    )
    assert job["status"] == "done", job
    # then b24:7 is learned as Анна Смирнова, who is a member: every lead of hers is hers
    identity = Identity.objects.get(key="b24:7")
    assert (identity.name, identity.learned) == ("Анна Смирнова", True)
    owners = dict(Lead.objects.values_list("external_id", "responsible_id"))
    assert owners == {"801": anna.pk, "802": anna.pk, "803": anna.pk}
    # a row with only the id keeps it as webhooks write it
    assert Lead.objects.get(external_id="803").responsible_name == "b24:7"


def test_a_link_made_on_the_page_is_not_overwritten_by_learning(organization, anna, make_member):
    other = make_member(Role.SALESPERSON)
    identities.person_link(organization=organization, written="b24:7", membership=other)
    assert identities.learn_people(organization, {"b24:7": "Анна Смирнова"}) == 0
    assert Identity.objects.get(key="b24:7").membership_id == other.pk


def test_a_channel_code_is_named_on_the_page_and_stored_leads_follow(
    organization, ru_funnel, client_for, head
):
    webhook_load(
        organization,
        ru_funnel,
        [lead(1, "701", 0, channel="UC_4KD2Y1"), lead(2, "702", 0, channel="WEB")],
    )
    client = client_for(head)
    assert "UC_4KD2Y1" in client.get(reverse("identity_list")).content.decode()
    # when the portal's own source and the standard one are named
    client.post(
        reverse("identity_channel"),
        {"source": "bitrix24", "written": "UC_4KD2Y1", "name": "Авито"},
    )
    client.post(
        reverse("identity_channel"), {"source": "bitrix24", "written": "WEB", "name": "Сайт"}
    )
    # then the stored leads carry the names, and so do the next loads
    assert dict(Lead.objects.values_list("external_id", "channel")) == {
        "701": "Авито",
        "702": "Сайт",
    }
    webhook_load(organization, ru_funnel, [lead(1, "703", 0, channel="uc_4kd2y1")])
    assert Lead.objects.get(external_id="703").channel == "Авито"
    # and removing the name brings the built-in one back
    client.post(reverse("identity_channel"), {"source": "bitrix24", "written": "WEB", "name": ""})
    assert Lead.objects.get(external_id="702").channel == "Веб-сайт"


def test_unlinking_leaves_the_leads_with_no_member(organization, ru_funnel, anna):
    identities.person_link(organization=organization, written="b24:7", membership=anna)
    webhook_load(organization, ru_funnel, [lead(1, "601", 0, responsible="b24:7")])
    assert Lead.objects.get(external_id="601").responsible_id == anna.pk
    done = identities.person_link(organization=organization, written="b24:7", membership=None)
    assert done.leads == 1
    assert Lead.objects.get(external_id="601").responsible_id is None


def test_another_organizations_member_cannot_be_linked(organization, ru_funnel, client_for, head):
    webhook_load(organization, ru_funnel, [lead(1, "501", 0, responsible="b24:7")])
    stranger = MembershipFactory(organization=OrganizationFactory(), role=Role.SALESPERSON)
    response = client_for(head).post(
        reverse("identity_person"), {"written": "b24:7", "membership": stranger.pk}, follow=True
    )
    assert any("не в вашей организации" in str(m) for m in response.context["messages"])
    assert Lead.objects.get(external_id="501").responsible_id is None
    assert not Identity.objects.exists()


def test_identities_never_cross_organizations(organization, ru_funnel, anna):
    other = OrganizationFactory()
    theirs = FunnelFactory(organization=other, name="B2B")
    webhook_load(other, theirs, [lead(1, "401", 0, responsible="b24:7", channel="UC_X")])
    webhook_load(organization, ru_funnel, [lead(1, "401", 0, responsible="b24:7")])
    identities.person_link(organization=organization, written="b24:7", membership=anna)
    identities.channel_rename(
        organization=organization, source="bitrix24", written="UC_X", name="Авито"
    )
    assert Lead.objects.get(organization=other).responsible_id is None
    assert Lead.objects.get(organization=other).channel == "UC_X"


@pytest.mark.parametrize("role", [Role.SALESPERSON, Role.MARKETER, Role.VIEWER])
def test_only_owner_and_head_of_sales_see_the_page(make_member, client_for, role):
    client = client_for(make_member(role))
    assert client.get(reverse("identity_list")).status_code == 403
    response = client.post(reverse("identity_channel"), {"source": "bitrix24", "written": "X"})
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"source": "bitrix24", "written": "", "name": "Сайт"}, "Обязательное поле"),
        ({"source": "nowhere", "written": "WEB", "name": "Сайт"}, "Неизвестный источник"),
        ({"source": "bitrix24", "written": "WEB", "name": "x" * 301}, "300"),
    ],
)
def test_bad_channel_forms_are_messages(client_for, head, form, message):
    response = client_for(head).post(reverse("identity_channel"), form, follow=True)
    assert response.status_code == 200
    assert any(message in str(m) for m in response.context["messages"])
    assert not Identity.objects.exists()


def test_the_bitrix24_products_fixture_still_imports_with_names(
    api_for, head, ru_funnel, anna, django_capture_on_commit_callbacks
):
    # «Ответственный» holds names: they resolve to members by name as before
    job = imported(
        api_for(head),
        django_capture_on_commit_callbacks,
        ru_funnel,
        CRM_FIXTURES / "bitrix24_products.csv",
        stage_map={"Подготовка документов": "Встреча проведена"},
    )
    assert job["status"] == "done", job
    assert Lead.objects.get(external_id="501").responsible_id == anna.pk


def test_an_id_the_portal_did_not_name_is_named_by_a_later_file(organization, ru_funnel, anna):
    webhook_load(organization, ru_funnel, [lead(1, "301", 0, responsible="b24:7")])
    identities.person_asked(organization, "b24:7")
    assert identities.learn_people(organization, {"b24:7": "Анна Смирнова"}) == 1
    assert Identity.objects.get(key="b24:7").name == "Анна Смирнова"
    assert Lead.objects.get(external_id="301").responsible_id == anna.pk
