"""Every personal-details field has a confidentiality label and a reader policy."""

from __future__ import annotations

from domain.confidentiality import PERSONAL_FIELDS, Reader
from domain.household import MemberDetails
from domain.values import PersonalDetails


def test_every_personal_field_is_labelled_and_opened_only_on_request_by_the_coordinator() -> None:
    fields = set(PersonalDetails.model_fields) | (set(MemberDetails.model_fields) - {"role", "ref"})
    assert fields <= set(PERSONAL_FIELDS), fields - set(PERSONAL_FIELDS)
    for name in fields:
        policy = PERSONAL_FIELDS[name]
        assert policy.on_request, name
        assert policy.readers == {Reader.COORDINATOR}, name
