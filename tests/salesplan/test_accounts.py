"""Sign-up, sign-in, invitations and the organization boundary, through HTTP."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from salesplan.models import Invitation, Membership, Organization, Role
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db
User = get_user_model()


def signup_data(**overrides: str) -> dict[str, str]:
    data = {
        "organization_name": "Рога и копыта",
        "first_name": "Ivan",
        "last_name": "Petrov",
        "email": "Ivan@Example.com",
        "currency": "RUB",
    }
    data.update(overrides)
    return data


PASSWORDS = {"password1": "a-long-passphrase-42", "password2": "a-long-passphrase-42"}


def signup_link(client, capture, **overrides: str) -> str:
    """Sign up; the path of the link the e-mail carries."""
    with capture(execute=True):
        response = client.post(reverse("signup"), signup_data(**overrides))
    assert response.status_code == 200
    [message] = mail.outbox
    return re.search(r"https?://[^/\s]+(/signup/confirm/\S+)", message.body).group(1)


def test_signup_creates_organization_with_owner_and_signs_in(
    client, django_capture_on_commit_callbacks
):
    # given the link of the sign-up e-mail
    link = signup_link(client, django_capture_on_commit_callbacks)
    assert not Organization.objects.exists()
    # when the password is chosen on it
    response = client.post(link, PASSWORDS)
    # then
    assert response.status_code == 302
    organization = Organization.objects.get(name="Рога и копыта")
    membership = Membership.objects.get(organization=organization)
    assert membership.role == Role.OWNER
    assert membership.user.email == "ivan@example.com"
    assert (membership.user.first_name, membership.user.last_name) == ("Ivan", "Petrov")
    # signed in: home takes the new owner to the roll-up of their (empty) organization
    home = client.get(reverse("home"), follow=True)
    assert home.status_code == 200
    assert home.redirect_chain == [(reverse("overview"), 302)]
    # and the link is spent
    client.logout()
    assert client.get(link).status_code == 410


@pytest.mark.parametrize(
    ("language", "field", "overrides", "message"),
    [
        ("en", "password1", {"password1": "12345678", "password2": "12345678"}, "too common"),
        ("ru", "password1", {"password1": "12345678", "password2": "12345678"}, "слишком"),
        ("en", "password2", {"password2": "other-passphrase-42"}, "do not match"),
        ("ru", "password2", {"password2": "other-passphrase-42"}, "не совпадают"),
    ],
)
def test_signup_rejects_bad_passwords_in_the_users_language(
    client, django_capture_on_commit_callbacks, language, field, overrides, message
):
    link = signup_link(client, django_capture_on_commit_callbacks)
    response = client.post(link, {**PASSWORDS, **overrides}, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert not Organization.objects.exists()


def test_signup_rejects_a_bad_email(client):
    response = client.post(
        reverse("signup"), signup_data(email="not-an-email"), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 200
    assert "valid email" in " ".join(response.context["form"].errors["email"])
    assert not mail.outbox


def test_login_with_email_in_any_case(client, owner, password):
    response = client.post(
        reverse("login"), {"username": owner.user.email.upper(), "password": password}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_every_page_requires_sign_in(client):
    for name in ("home", "members"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_a_user_without_organization_is_told_so(client):
    user = User.objects.create_user(username="lonely@example.com", password="x-long-pass-1")
    client.force_login(user)
    response = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 403
    assert b"not a member of any organization" in response.content


def test_owner_invites_a_salesperson_who_accepts(
    client_for, owner, client, django_capture_on_commit_callbacks
):
    # given an owner on the people page
    page = client_for(owner)
    # when they invite a hunter (the e-mail leaves once the transaction commits)
    with django_capture_on_commit_callbacks(execute=True):
        response = page.post(
            reverse("members"),
            {
                "invite-email": "Anna@Example.com",
                "invite-first_name": "Anna",
                "invite-role": Role.SALESPERSON,
                "invite-salesperson_kind": "hunter",
            },
        )
    # then an invitation exists and an e-mail with the link went out
    assert response.status_code == 302
    invitation = Invitation.objects.get(email="anna@example.com")
    assert len(mail.outbox) == 1
    assert invitation.token in mail.outbox[0].body
    # when the invitee accepts it (signed out)
    page.logout()
    response = client.post(
        reverse("invitation_accept", kwargs={"token": invitation.token}),
        {
            "first_name": "Anna",
            "last_name": "K",
            "password1": "a-long-passphrase-42",
            "password2": "a-long-passphrase-42",
        },
    )
    # then she is a hunter of the owner's organization, and the link is spent
    assert response.status_code == 302
    membership = Membership.objects.get(user__email="anna@example.com")
    assert (membership.organization, membership.role, membership.salesperson_kind) == (
        owner.organization,
        Role.SALESPERSON,
        "hunter",
    )
    client.logout()
    again = client.get(reverse("invitation_accept", kwargs={"token": invitation.token}))
    assert again.status_code == 410


@pytest.mark.parametrize(
    ("post", "field", "message"),
    [
        ({"invite-role": "emperor"}, "role", "Select a valid choice"),
        ({"invite-role": Role.SALESPERSON}, "salesperson_kind", "hunter or farmer"),
        ({"invite-role": Role.MARKETER, "invite-email": "OWNER"}, "email", "already a member"),
    ],
)
def test_invite_form_rejects_bad_input(client_for, owner, post, field, message):
    data = {"invite-email": "new@example.com", **post}
    if data["invite-email"] == "OWNER":
        data["invite-email"] = owner.user.email.upper()
    response = client_for(owner).post(reverse("members"), data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert message in " ".join(response.context["invite_form"].errors[field])
    assert not Invitation.objects.exists()


def test_invite_errors_in_russian(client_for, owner):
    response = client_for(owner).post(
        reverse("members"),
        {"invite-email": "new@example.com", "invite-role": "emperor"},
        HTTP_ACCEPT_LANGUAGE="ru",
    )
    assert "Выберите корректный вариант" in " ".join(response.context["invite_form"].errors["role"])


def test_only_the_owner_invites(client_for, make_member):
    head = make_member(Role.HEAD_OF_SALES)
    response = client_for(head).post(
        reverse("members"), {"invite-email": "x@example.com", "invite-role": Role.VIEWER}
    )
    assert response.status_code == 403
    assert not Invitation.objects.exists()


def test_owner_creates_a_team_led_by_a_head_of_sales(client_for, owner, make_member):
    head = make_member(Role.HEAD_OF_SALES)
    response = client_for(owner).post(
        reverse("members"), {"team-name": "Moscow", "team-head": head.pk}
    )
    assert response.status_code == 302
    head.refresh_from_db()
    assert head.team.name == "Moscow"
    assert head.team.head == head


def test_another_organizations_invitation_page_does_not_leak_members(client_for, make_member):
    other = make_member(Role.OWNER, org=OrganizationFactory(name="Other"))
    mine = make_member(Role.OWNER)
    response = client_for(mine).get(reverse("members"))
    assert other.user.email not in response.content.decode()
    assert mine.user.email in response.content.decode()
