"""directory.quality: duplicates, households and numbers not in E.164, found and fixed."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from callerid import numbers
from callerid.directory import quality, quality_fixes
from callerid.models import AuditEntry, Call, Customer, PhoneNumber

from ..factories import add_call, add_customer

HOME = "+14155550134"


@pytest.mark.parametrize(
    ("a", "b", "reason"),
    [
        ("Anna Moors", "anna  moors", "same name, written differently"),
        ("Anna Moors", "Mrs. ANNA MOORS", "same name, written differently"),
        ("Zoë Brontë", "Zoe Bronte", "same name, written differently"),
        ("Anna Moors", "Moors, Anna", "same name, words in another order"),
        ("Anna Moors", "A. Moors", "an initial or short form of the first name"),
        ("Robert Stone", "Rob Stone", "an initial or short form of the first name"),
        ("Anna Moors", "Anna", "one record has only part of the name"),
        ("Jon Smith", "John Smith", "a small spelling difference"),
        ("Anna Moore", "Anna Moors", "a small spelling difference"),
        ("Anna Moors", "", "one record has no name"),
        ("Anna Moors", "James Moors", None),
        ("Mark Moors", "Mary Moors", None),
        ("Anna Moors", "B. Moors", None),
        ("Daniel Okafor", "Grace Okafor", None),
    ],
)
def test_names_are_compared_as_people_write_them(a, b, reason):
    assert quality.likely_same(a, b) == reason
    assert quality.likely_same(b, a) == reason


def test_likely_duplicates_keep_the_record_with_the_most_calls(session):
    anna = add_customer(session, "Anna Moors", numbers=(HOME,))
    initial = add_customer(session, "A. Moors", numbers=(HOME,))
    lower = add_customer(session, "anna  moors", numbers=(HOME,))
    add_call(session, lower)
    add_call(session, lower)
    add_call(session, anna)
    duplicates, households, checked, total = quality.shared_numbers(session)
    assert households == [] and checked == total == 1
    [dup] = duplicates
    assert dup.number == HOME
    assert (dup.survivor.customer_id, dup.survivor.calls) == (lower.id, 2)
    assert {o.customer_id for o in dup.others} == {anna.id, initial.id}


def test_different_people_on_one_number_are_a_household(session):
    add_customer(session, "Daniel Okafor", numbers=(HOME,))
    add_customer(session, "Grace Okafor", numbers=(HOME, "+13125550142"))
    add_customer(session, "Someone Else", numbers=("+13125550142", "+16465550111"))
    add_customer(session, "Alone", numbers=("+16465550111",))
    duplicates, households, checked, total = quality.shared_numbers(session)
    assert duplicates == []
    assert checked == total == 3
    assert [h.number for h in households] == sorted([HOME, "+13125550142", "+16465550111"])
    assert [o.name for o in households[1].owners] == ["Daniel Okafor", "Grace Okafor"]


def test_a_household_with_a_duplicate_is_listed_as_the_duplicate(session):
    add_customer(session, "Daniel Okafor", numbers=(HOME,))
    add_customer(session, "Grace Okafor", numbers=(HOME,))
    add_customer(session, "Okafor, Grace", numbers=(HOME,))
    duplicates, households, _, _ = quality.shared_numbers(session)
    assert households == []
    [dup] = duplicates
    assert dup.reason == "same name, words in another order"
    assert [o.name for o in dup.rest] == ["Daniel Okafor"]


def test_sections_are_cut_to_the_limit_and_the_scan_is_bounded(session):
    for n in range(6):
        number = f"+1415555{n + 100:04d}"
        add_customer(session, f"Person {chr(65 + n)}", numbers=(number,))
        add_customer(session, f"Other {chr(65 + n)}", numbers=(number,))
    _, households, checked, total = quality.shared_numbers(session, limit=2)
    assert len(households) == 2 and checked == total == 6  # a batch is compared whole
    _, households, checked, total = quality.shared_numbers(session, limit=10, scan=4)
    assert len(households) == 4 and checked == 4 and total == 6


def test_marking_a_household_keeps_labels_and_takes_it_off_the_list(session):
    dan = add_customer(session, "Daniel Okafor", numbers=(HOME,))
    add_customer(session, "Grace Okafor", numbers=(HOME,))
    dan.numbers[0].label = "home"
    session.commit()
    assert quality_fixes.mark_household(session, HOME, actor="Maria", user_id=None) == 2
    session.commit()
    labels = sorted(session.scalars(select(PhoneNumber.label).where(PhoneNumber.number == HOME)))
    assert labels == ["home, household", "household"]
    assert quality.shared_numbers(session) == ([], [], 0, 0)
    entry = session.scalar(select(AuditEntry))
    assert (entry.action, entry.actor) == ("number.household", "Maria")
    assert HOME not in entry.target + entry.detail


def test_a_new_owner_brings_a_marked_household_back_for_review(session):
    add_customer(session, "Daniel Okafor", numbers=(HOME,))
    add_customer(session, "Grace Okafor", numbers=(HOME,))
    quality_fixes.mark_household(session, HOME, actor="Maria")
    session.commit()
    add_customer(session, "G. Okafor", numbers=(HOME,))
    [dup], _, _, _ = quality.shared_numbers(session)
    assert {o.name for o in [dup.survivor, *dup.others]} == {"Grace Okafor", "G. Okafor"}


def test_merging_duplicates_moves_calls_and_writes_the_audit_trail(session):
    anna = add_customer(session, "Anna Moors", numbers=(HOME,))
    copy = add_customer(session, "anna moors", numbers=(HOME,))
    add_call(session, copy)
    merged = quality_fixes.merge_duplicates(session, HOME, anna.id, [copy.id], actor="Maria")
    session.commit()
    assert merged == 1
    assert session.get(Customer, copy.id) is None
    assert (
        session.scalar(select(func.count()).select_from(Call).where(Call.customer_id == anna.id))
        == 1
    )
    assert session.scalar(select(AuditEntry.action)) == "merge"


def test_merging_customers_who_no_longer_share_the_number_changes_nothing(session):
    anna = add_customer(session, "Anna Moors", numbers=(HOME,))
    other = add_customer(session, "Anna Moors", numbers=("+13125550142",))
    with pytest.raises(quality_fixes.Stale):
        quality_fixes.merge_duplicates(session, HOME, anna.id, [other.id], actor="Maria")
    session.rollback()
    assert session.get(Customer, other.id) is not None


def test_numbers_not_in_e164_are_found_with_what_they_would_become(session):
    add_customer(session, "Fine", numbers=(HOME,))
    legacy = add_customer(
        session, "Legacy", numbers=("(312) 555-0142", "555-0199", " +1 646 555 0111")
    )
    bad, total = quality.unnormalised(session, "US")
    assert total == 3
    assert [(b.customer_id, b.stored, b.proposal) for b in bad] == [
        (legacy.id, "(312) 555-0142", "+13125550142"),
        (legacy.id, "555-0199", None),
        (legacy.id, " +1 646 555 0111", "+16465550111"),
    ]
    assert bad[1].problem == "not a valid number for its country"


@pytest.mark.parametrize(
    "stored",
    ["4155550134", "+0415555013", "+1415555013x", "+14155550134567890", "+1 4155550134", "+123"],
)
def test_every_shape_that_is_not_e164_is_caught_by_the_database(session, stored):
    add_customer(session, "Odd", numbers=(stored,))
    assert quality.unnormalised(session, "US")[1] == 1


def test_the_number_list_is_cut_to_the_limit_with_the_total(session):
    add_customer(session, "Legacy", numbers=tuple(f"(312) 555-01{n:02d}" for n in range(5)))
    bad, total = quality.unnormalised(session, "US", limit=2)
    assert len(bad) == 2 and total == 5


def test_normalising_stores_e164_so_the_caller_is_found(session):
    legacy = add_customer(session, "Legacy", numbers=("(312) 555-0142",))
    phone_id = legacy.numbers[0].id
    assert quality_fixes.normalise_number(session, phone_id, "US", actor="Maria") == "+13125550142"
    session.commit()
    session.expire_all()
    assert [p.number for p in session.get(Customer, legacy.id).numbers] == ["+13125550142"]
    assert quality.unnormalised(session, "US") == ([], 0)
    assert session.scalar(select(AuditEntry.action)) == "number.normalise"


def test_normalising_a_copy_of_a_number_the_customer_has_keeps_one(session):
    legacy = add_customer(session, "Legacy", numbers=("+13125550142", "312.555.0142"))
    quality_fixes.normalise_number(session, legacy.numbers[1].id, "US", actor="Maria")
    session.commit()
    session.expire_all()
    assert [p.number for p in session.get(Customer, legacy.id).numbers] == ["+13125550142"]


def test_a_number_that_cannot_be_read_is_refused_and_kept(session):
    legacy = add_customer(session, "Legacy", numbers=("555-0199",))
    with pytest.raises(numbers.InvalidNumber):
        quality_fixes.normalise_number(session, legacy.numbers[0].id, "US", actor="Maria")
    session.rollback()
    assert quality.unnormalised(session, "US")[1] == 1


def test_normalising_uses_the_region_it_is_given(session):
    legacy = add_customer(session, "Legacy", numbers=("020 7946 0958",))
    [bad], _ = quality.unnormalised(session, "GB")
    assert bad.proposal == "+442079460958"
    quality_fixes.normalise_number(session, legacy.numbers[0].id, "GB", actor="Maria")
    session.commit()
    assert session.scalar(select(PhoneNumber.number)) == "+442079460958"


def test_removing_a_number_takes_it_off_one_customer_only(session):
    dan = add_customer(session, "Daniel Okafor", numbers=(HOME,))
    grace = add_customer(session, "Grace Okafor", numbers=(HOME,))
    quality_fixes.remove_number(session, grace.numbers[0].id, actor="Maria")
    session.commit()
    owners = list(
        session.scalars(select(PhoneNumber.customer_id).where(PhoneNumber.number == HOME))
    )
    assert owners == [dan.id]
    assert session.get(Customer, grace.id) is not None
    with pytest.raises(quality_fixes.Stale):
        quality_fixes.remove_number(session, grace.numbers[0].id, actor="Maria")


def test_the_report_puts_the_three_sections_together(session):
    add_customer(session, "Anna Moors", numbers=(HOME,))
    add_customer(session, "A. Moors", numbers=(HOME,))
    add_customer(session, "Daniel Okafor", numbers=("+13125550187",))
    add_customer(session, "Grace Okafor", numbers=("+13125550187",))
    add_customer(session, "Legacy", numbers=("(312) 555-0142",))
    found = quality.report(session, "US")
    assert len(found.duplicates) == 1 and len(found.households) == 1
    assert (found.shared_total, found.shared_checked, found.shared_unchecked) == (2, 2, 0)
    assert found.bad_total == 1
