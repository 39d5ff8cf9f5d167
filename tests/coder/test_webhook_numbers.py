"""GitHub's numbers in a signed delivery are read as the rest of the platform reads a number."""

import pytest

from coder.serializers.webhooks import PullRequestSerializer


@pytest.mark.parametrize("value", ["\uff17", "\u0667", "7_0", "7\u2003"])
def test_a_pull_request_number_in_digits_only_pythons_int_reads_is_refused(value):
    serializer = PullRequestSerializer(data={"number": value})

    assert not serializer.is_valid()
    assert "number" in serializer.errors
