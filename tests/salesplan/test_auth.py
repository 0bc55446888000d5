"""Sign-in and tokens under attack and in everyday use, through HTTP: lockout after failed
sign-ins (django-axes), API rates (429 with Retry-After), tokens that expire, rotate and are
revoked, password change and reset by e-mail, and a sign-up that never tells whether an
e-mail has an account."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.cache import cache
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from salesplan.models import Organization
from tests.salesplan.test_accounts import signup_data

pytestmark = pytest.mark.django_db

WRONG = "not-the-password-1"
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def limit(settings) -> int:
    settings.AXES_FAILURE_LIMIT = 5
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    return 5


def sign_in(client, email: str, password: str, **extra: str):
    return client.post(reverse("login"), {"username": email, "password": password}, **extra)


def token_for(email: str, password: str, **extra: str):
    return APIClient().post(
        "/api/v1/auth/token/", {"username": email, "password": password}, format="json", **extra
    )


# --- lockout after failed sign-ins -------------------------------------------------------------


def test_the_right_password_is_refused_after_the_limit_of_wrong_ones(
    client, owner, password, limit
):
    email = owner.user.email
    # given as many wrong passwords as the limit, the case of the e-mail changing: the last
    # of them locks the account for this client
    answers = [
        sign_in(client, email.upper() if attempt % 2 else email, WRONG).status_code
        for attempt in range(limit)
    ]
    assert answers == [200] * (limit - 1) + [429]  # the form again with its error, then locked
    # when the right password comes next
    response = sign_in(client, email, password, **EN)
    # then it is refused for the cool-off, saying why and for how long, in the user's language
    assert response.status_code == 429
    assert int(response["Retry-After"]) == 15 * 60
    assert b"Too many failed sign-in attempts. Try again in 15 minutes" in response.content
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("home")).status_code == 302


def test_fewer_wrong_passwords_than_the_limit_still_let_the_right_one_in(
    client, owner, password, limit
):
    for _attempt in range(limit - 1):
        sign_in(client, owner.user.email, WRONG)
    response = sign_in(client, owner.user.email, password)
    assert response.status_code == 302 and response["Location"] == reverse("home")


def test_the_token_endpoint_locks_out_the_same_way(owner, password, limit):
    email = owner.user.email
    answers = [token_for(email, WRONG).status_code for _attempt in range(limit)]
    assert answers == [400] * (limit - 1) + [429]
    response = token_for(email, password, **EN)
    assert response.status_code == 429
    assert response["Retry-After"] == str(15 * 60)
    assert response.json()["detail"].startswith("Too many failed sign-in attempts.")
    assert not Token.objects.filter(user=owner.user).exists()


def test_a_lockout_is_per_account_and_client(client, owner, make_member, password, limit):
    other = make_member()
    for _attempt in range(limit):
        sign_in(client, owner.user.email, WRONG)
    # another account from the same client, and the same account from another client, get in
    assert sign_in(client, other.user.email, password).status_code == 302
    client.logout()
    elsewhere = sign_in(client, owner.user.email, password, REMOTE_ADDR="198.51.100.7")
    assert elsewhere.status_code == 302


def test_a_password_reset_lifts_the_lockout(
    client, owner, limit, django_capture_on_commit_callbacks
):
    for _attempt in range(limit):
        sign_in(client, owner.user.email, WRONG)
    link = reset_link(client, owner.user.email)
    response = client.post(
        client.get(link).url,
        {"new_password1": "fresh-passphrase-77", "new_password2": "fresh-passphrase-77"},
    )
    assert response.status_code == 302
    assert sign_in(client, owner.user.email, "fresh-passphrase-77").status_code == 302


# --- API rates ----------------------------------------------------------------------------------


def lower_rate(settings, scope: str, rate: str) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            scope: rate,
        },
    }


def test_a_user_over_the_rate_gets_429_with_retry_after(settings, api_for, owner):
    # given a rate of 3 calls a minute
    lower_rate(settings, "user", "3/minute")
    cache.delete(f"throttle_user_{owner.user.pk}")
    api = api_for(owner)
    # when a fourth call comes within the minute
    answers = [api.get("/api/v1/me/", **EN) for _call in range(4)]
    # then it is refused, saying when to come back
    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    assert 0 < int(answers[-1]["Retry-After"]) <= 60
    assert "throttled" in answers[-1].json()["detail"]


def test_the_token_endpoint_has_its_own_rate_per_client(settings, owner, password):
    lower_rate(settings, "token", "2/minute")
    address = "203.0.113.9"
    cache.delete(f"throttle_token_{address}")
    answers = [token_for(owner.user.email, password, REMOTE_ADDR=address) for _call in range(3)]
    assert [answer.status_code for answer in answers] == [200, 200, 429]
    assert int(answers[-1]["Retry-After"]) > 0
    # X-Forwarded-For is not believed without a proxy in front (NUM_PROXIES=0)
    spoofed = token_for(
        owner.user.email, password, REMOTE_ADDR=address, HTTP_X_FORWARDED_FOR="192.0.2.1"
    )
    assert spoofed.status_code == 429


def test_webhooks_have_their_own_rate_per_integration(settings, api, funnel_id):
    lower_rate(settings, "webhooks", "2/minute")
    secrets = []
    for _integration in range(2):
        created = api.post(
            "/api/v1/integrations/", {"kind": "amocrm", "funnel": funnel_id}, format="json"
        )
        secrets.append(created.json()["webhook_url"].rstrip("/").rsplit("/", 1)[-1])
    body = "leads%5Badd%5D%5B0%5D%5Bid%5D=1"

    def post(secret: str):
        return APIClient().post(
            f"/api/v1/integrations/amocrm/{secret}/",
            body,
            content_type="application/x-www-form-urlencoded",
        )

    first = [post(secrets[0]).status_code for _call in range(3)]
    assert first[:2] != [429, 429] and first[2] == 429
    assert post(secrets[1]).status_code != 429  # another customer's address is not slowed


# --- tokens: expiry, rotation, revocation -------------------------------------------------------


def test_an_expired_token_is_refused_and_a_new_one_is_issued(settings, owner, password):
    settings.API_TOKEN_TTL_DAYS = 30
    body = token_for(owner.user.email, password).json()
    assert body["expires_at"]
    Token.objects.filter(key=body["token"]).update(
        created=Token.objects.get().created - timedelta(days=31)
    )
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {body['token']}")
    response = api.get("/api/v1/me/", **EN)
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]
    # signing in again gives a new key (the expired one is not revived)
    again = token_for(owner.user.email, password).json()
    assert again["token"] != body["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {again['token']}")
    assert api.get("/api/v1/me/").status_code == 200


def test_a_token_rotates_through_the_api(owner, password):
    old = token_for(owner.user.email, password).json()["token"]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {old}")
    response = api.post("/api/v1/auth/token/rotate/")
    assert response.status_code == 200
    new = response.json()["token"]
    assert new != old
    assert api.get("/api/v1/me/").status_code == 401  # the old key is dead
    api.credentials(HTTP_AUTHORIZATION=f"Token {new}")
    assert api.get("/api/v1/me/").status_code == 200


def test_a_token_is_revoked_through_the_api(owner, password):
    key = token_for(owner.user.email, password).json()["token"]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.delete("/api/v1/auth/token/").status_code == 204
    assert api.get("/api/v1/me/").status_code == 401
    assert not Token.objects.exists()
    assert APIClient().delete("/api/v1/auth/token/").status_code in (401, 403)


def test_the_account_page_rotates_and_revokes_the_token(client_for, owner, api_for):
    old = Token.objects.get_or_create(user=owner.user)[0].key
    client = client_for(owner)
    page = client.get(reverse("account"), **EN)
    assert page.status_code == 200
    assert reverse("password_change").encode() in page.content
    assert reverse("account_token_revoke").encode() in page.content
    # a new token, shown once
    response = client.post(reverse("account_token_rotate"), follow=True)
    new = Token.objects.get(user=owner.user).key
    assert new != old and new.encode() in response.content
    assert new.encode() not in client.get(reverse("account")).content
    # revoked
    client.post(reverse("account_token_revoke"))
    assert not Token.objects.filter(user=owner.user).exists()
    assert client.get(reverse("account_token_revoke")).status_code == 405


# --- passwords -----------------------------------------------------------------------------------


def test_a_person_changes_their_password(client_for, owner, password, client):
    signed_in = client_for(owner)
    response = signed_in.post(
        reverse("password_change"),
        {
            "old_password": password,
            "new_password1": "another-passphrase-9",
            "new_password2": "another-passphrase-9",
        },
    )
    assert response.status_code == 302 and response["Location"] == reverse("password_change_done")
    signed_in.logout()
    assert sign_in(client, owner.user.email, password).status_code == 200
    assert sign_in(client, owner.user.email, "another-passphrase-9").status_code == 302


def reset_link(client, email: str) -> str:
    mail.outbox.clear()
    response = client.post(reverse("password_reset"), {"email": email})
    assert response.status_code == 302 and response["Location"] == reverse("password_reset_done")
    [message] = mail.outbox
    return re.search(r"https?://[^/\s]+(/password-reset/\S+)", message.body).group(1)


def test_a_forgotten_password_is_reset_by_email(client, owner):
    # the sign-in page links to the reset
    assert reverse("password_reset").encode() in client.get(reverse("login")).content
    link = reset_link(client, owner.user.email.upper())
    form = client.get(link, follow=True)
    assert form.status_code == 200 and form.context["validlink"]
    response = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "reset-passphrase-5", "new_password2": "reset-passphrase-5"},
    )
    assert response["Location"] == reverse("password_reset_complete")
    assert sign_in(client, owner.user.email, "reset-passphrase-5").status_code == 302
    # the link is spent
    client.logout()
    assert not client.get(link, follow=True).context["validlink"]


def test_a_reset_for_an_unknown_email_answers_the_same_and_sends_nothing(client):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.com"})
    assert response.status_code == 302 and response["Location"] == reverse("password_reset_done")
    assert not mail.outbox


# --- sign-up does not reveal accounts ------------------------------------------------------------


def page_text(response, email: str) -> str:
    """The page without what differs by nature: the CSRF token, the address typed."""
    text = response.content.decode().replace(email, "EMAIL")
    return re.sub(r'("X-CSRFToken": "|name="csrfmiddlewaretoken" value=")[^"]+', r"\1", text)


def test_signup_answers_the_same_whether_or_not_the_email_has_an_account(
    client, owner, django_capture_on_commit_callbacks
):
    taken, free = owner.user.email, "new.person@example.com"
    with django_capture_on_commit_callbacks(execute=True):
        for_taken = client.post(reverse("signup"), signup_data(email=taken.upper()), **EN)
        for_free = client.post(reverse("signup"), signup_data(email=free), **EN)
    # the same page, the same words, whatever the address
    assert for_taken.status_code == for_free.status_code == 200
    assert page_text(for_taken, taken) == page_text(for_free, free)
    assert b"Check your mail" in for_free.content
    # each address got a message: the taken one to sign in, the new one its link
    assert Organization.objects.count() == 1
    by_address = {message.to[0]: message.body for message in mail.outbox}
    assert "already has an account" in by_address[taken]
    assert "/signup/confirm/" not in by_address[taken]
    assert "/signup/confirm/" in by_address[free]


def test_a_forged_signup_link_is_refused(client):
    assert client.get("/signup/confirm/not-a-token/").status_code == 410
