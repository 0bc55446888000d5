"""The share field of the plan forms (salesplan.fields.share_percent_field): out of range is
an error a person can read, in either language (found by tests/test_form_fuzz.py: the
message's "%" broke Django's formatting of it, a 500)."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from salesplan.fields import share_percent_field


@pytest.mark.parametrize("language", ["en", "ru"])
@pytest.mark.parametrize("typed", ["1e400", "101", "-1"])
def test_a_share_out_of_range_says_so(language, typed):
    # given the field; when a share beyond 0..100 % is typed
    field = share_percent_field("Share")
    with translation.override(language):
        with pytest.raises(ValidationError) as error:
            field.clean(typed)
        # then the message reads whole, with its percent sign, in that language
        [message] = [m for m in error.value.messages if "100" in m]
    assert message.endswith("100 %.")
    if language == "en":
        assert message == "A share is between 0 and 100 %."
    else:
        assert message == "Доля должна быть от 0 до 100 %."
