"""Identity keys fit their column (Identity.key, 300 characters) whatever was written: found by
schemathesis on PostgreSQL (a member renaming themselves from a 301-character name was a 500:
the former name's key did not fit)."""

import pytest

from funnel.identities import channel_key, person_key
from funnel.models import Identity

pytestmark = pytest.mark.django_db

KEY_CHARS = Identity._meta.get_field("key").max_length


def test_keys_fit_the_column_even_when_folding_lengthens_them():
    # given names longer than the column, and one casefolding makes longer ("ß" → "ss")
    for written in ("x" * 1000, "ß" * KEY_CHARS):
        # then the keys fit
        assert len(person_key(written)) <= KEY_CHARS
        assert len(channel_key(written)) <= KEY_CHARS


def test_a_member_renaming_from_the_longest_name_keeps_it_linked(api_for, owner):
    # given a member with the longest name the profile allows (150 + 150 characters)
    client = api_for(owner)
    longest = {"first_name": "a" * 150, "last_name": "b" * 150}
    assert client.patch("/api/v1/me/", longest, format="json").status_code == 200

    # when they rename themselves
    response = client.patch("/api/v1/me/", {"first_name": "Ann"}, format="json")

    # then the rename is saved and the former name stays theirs, its key within the column
    assert response.status_code == 200
    keys = list(
        Identity.objects.filter(organization=owner.organization, membership=owner).values_list(
            "key", flat=True
        )
    )
    assert any(key.startswith("a" * 150) for key in keys)
    assert max(len(key) for key in keys) <= KEY_CHARS
