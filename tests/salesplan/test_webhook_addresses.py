"""An organization's webhook may not call this server, its private network or the cloud's
metadata service (server-side request forgery): refused when saved, and when sent."""

import pytest
from django.core.exceptions import ValidationError

from salesplan.notifications import channels
from salesplan.notifications.channels import DeliveryError, send_webhook
from salesplan.notifications.services import organization_settings_update

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _guard_on(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://localhost/hook",
        "http://10.0.0.5/hook",
        "http://192.168.1.1/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hook",
    ],
)
def test_a_private_address_is_refused_when_saved(organization, url):
    with pytest.raises(ValidationError) as refused:
        organization_settings_update(organization=organization, webhook_url=url)
    assert "webhook_url" in refused.value.message_dict


def test_a_public_address_is_kept(organization):
    organization_settings_update(
        organization=organization, webhook_url="https://93.184.216.34/hook"
    )


def test_a_name_that_resolves_to_a_private_address_is_refused_when_sent(monkeypatch):
    # given a public-looking name whose lookup gives this machine (DNS pointing inwards)
    monkeypatch.setattr(
        channels.socket,
        "getaddrinfo",
        lambda *args, **kwargs: [(2, 1, 6, "", ("127.0.0.1", 443))],
    )
    # when the webhook is sent, then it is refused for good, naming the host, and not called
    with pytest.raises(DeliveryError) as refused:
        send_webhook(
            url="https://hooks.example.com/x", secret="s", event="e", event_id="1", data={}
        )
    assert refused.value.permanent
    assert "hooks.example.com" in str(refused.value)


def test_the_setting_lets_a_development_setup_call_a_local_receiver(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    assert channels.private_address_error("http://127.0.0.1:9/hook", resolve=True) is None
