"""config/phone/3cx/callerid.xml, the 3CX server-side CRM template: shaped as 3CX's published
templates are, and run here as 3CX runs it (request, rule, variables, outputs) against the
real look-up.

The shape below is written down from 3CX's server-side CRM templates as published, e.g.
github.com/crottolo/free_addons 3cxcrm/upload_on_3cx_pbx/3cx_odoo_v20.xml (AGPL-3.0) and
github.com/Mancy/Zammad_3CX zammad.xml; their files are not copied into this repository.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ..factories import add_customer

TEMPLATE = Path(__file__).resolve().parents[2] / "config" / "phone" / "3cx" / "callerid.xml"
# Element -> the attributes 3CX's published templates give it.
SHAPE = {
    "Crm": {"Country", "Name", "Version"},
    "Number": {"Prefix", "MaxLength"},
    "Connection": {"MaxConcurrentRequests"},
    "Parameters/Parameter": {"Name", "Type", "Editor", "Title"},
    "Authentication": {"Type"},
    "Scenarios/Scenario": {"Type"},
    "Scenarios/Scenario/Request": {"Url", "RequestType", "ResponseType"},
    "Scenarios/Scenario/Rules/Rule": {"Type"},
    "Scenarios/Scenario/Variables/Variable": {"Name", "Path"},
    "Scenarios/Scenario/Outputs/Output": {"Type", "Value"},
}
# Contact fields a 3CX output may fill (the published templates use these).
OUTPUT_TYPES = {
    "ContactID", "FirstName", "LastName", "FullName", "CompanyName", "Email", "PhoneBusiness",
    "PhoneBusiness2", "PhoneMobile", "PhoneMobile2", "PhoneHome", "PhoneHome2", "PhoneOther",
    "FaxBusiness", "ContactUrl", "EntityId", "EntityType", "PhotoUrl",
}  # fmt: skip


def template() -> ET.Element:
    return ET.parse(TEMPLATE).getroot()


def test_the_template_has_the_shape_of_3cxs_published_templates():
    root = template()
    assert root.tag == "Crm"
    assert [child.tag for child in root] == [
        "Number", "Connection", "Parameters", "Authentication", "Scenarios",
    ]  # fmt: skip
    for path, attributes in SHAPE.items():
        found = [root] if path == "Crm" else root.findall(path)
        assert found, path
        for element in found:
            assert attributes <= set(element.attrib), (path, element.attrib)
    (scenario,) = root.findall("Scenarios/Scenario")
    assert scenario.get("Id") == "" and scenario.get("Type") == "REST"  # the contact look-up
    assert {o.get("Type") for o in root.iter("Output")} <= OUTPUT_TYPES


def run_like_3cx(client, number: str, token: str) -> dict[str, str] | None:
    """What 3CX makes of the template for a call from ``number``: the contact's fields, or None
    when the rule finds no contact."""
    root = template()
    parameters = {"BaseUrl": "", "Token": token, "Number": number}

    def fill(text: str) -> str:
        return re.sub(r"\[(\w+)\]", lambda m: parameters.get(m.group(1), m.group(0)), text)

    request = root.find("Scenarios/Scenario/Request")
    headers = {v.get("Key"): fill(v.text) for v in request.findall("Headers/Value")}
    assert request.get("RequestType") == "Get"
    answer = client.get(fill(request.get("Url")), headers=headers).get_json()
    for rule in root.findall("Scenarios/Scenario/Rules/Rule"):
        if answer.get(rule.text) in (None, ""):
            return None
    for variable in root.iter("Variable"):
        value = answer[variable.get("Path")]
        parameters[variable.get("Name")] = "" if value is None else str(value)
    return {o.get("Type"): fill(o.get("Value")) for o in root.iter("Output")}


@pytest.fixture
def phone_token(session) -> str:
    from ..factories import add_user, token_for

    return token_for(session, add_user(session, "3cx"), kind="phone", source="3CX")


def test_3cx_shows_the_callers_display_name_and_links_their_page(client, session, phone_token):
    eleanor = add_customer(session, "Eleanor Whitfield", numbers=("+14155550134",), is_vip=True)
    contact = run_like_3cx(client, "+14155550134", phone_token)
    assert contact == {
        "ContactID": str(eleanor.id),
        "FirstName": "E.Whitfield VIP",
        "CompanyName": "Eleanor Whitfield",
        "PhoneBusiness": "+14155550134",
        "ContactUrl": f"http://localhost/customers/{eleanor.id}",
        "EntityId": str(eleanor.id),
        "EntityType": "Contacts",
    }


def test_3cx_finds_no_contact_for_a_stranger(client, phone_token):
    assert run_like_3cx(client, "+13125550187", phone_token) is None
