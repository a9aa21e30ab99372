"""Open311 GeoReport v2 over real HTTP: the spec's answers field by field in JSON and XML, errors in
the spec's format, keys (missing, revoked, too weak, over budget), filters and paging, privacy."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from bot.app import App
from data.services.integrators import revoke_key
from tests.bot.open311_helpers import (
    ATTRIBUTE_FIELDS,
    POSTED_FIELDS,
    REQUEST_FIELDS,
    SERVICE_FIELDS,
    new_key,
)
from tests.channels.conftest import LiveServer

V2 = "/open311/v2"
RESIDENT_PHONE = "13800000502"  # demo:resident1, 王秀英, 3 栋 2 单元 502


@pytest.fixture
def http(app: App) -> Iterator[httpx.Client]:
    server = LiveServer(app, workers=False)
    with httpx.Client(base_url=server.url, timeout=10) as client:
        yield client
    server.stop()


def tags(element: ET.Element) -> list[str]:
    return [child.tag for child in element]


def post(http: httpx.Client, key: str | None, fmt: str = "json", **fields: str) -> httpx.Response:
    form = {
        "service_code": "water_pipe",
        "address_string": "3栋2单元502",
        "attribute[where]": "home",
        **fields,
    }
    if key is not None:
        form["api_key"] = key
    return http.post(f"{V2}/requests.{fmt}", data=form)


def test_services_field_by_field_json_and_xml(http: httpx.Client) -> None:
    services = http.get(f"{V2}/services.json").json()
    assert len(services) == 30
    for service in services:
        assert list(service) == SERVICE_FIELDS
        assert service["type"] == "realtime"
    water = next(s for s in services if s["service_code"] == "water_pipe")
    assert (
        water["service_name"] == "水管漏水" and water["group"] == "设施与环境" and water["metadata"] is True
    )
    assert "漏水" in water["keywords"]
    assert next(s for s in services if s["service_code"] == "noise")["metadata"] is False

    root = ET.fromstring(http.get(f"{V2}/services.xml").content)
    assert root.tag == "services" and len(root) == 30
    for element in root:
        assert element.tag == "service" and tags(element) == SERVICE_FIELDS
    assert root[0].findtext("metadata") in ("true", "false")

    definition = http.get(f"{V2}/services/water_pipe.json").json()
    assert list(definition) == ["service_code", "attributes"]
    (attribute,) = definition["attributes"]
    assert list(attribute) == ATTRIBUTE_FIELDS
    assert attribute["code"] == "where" and attribute["datatype"] == "singlevaluelist"
    assert attribute["required"] is True and attribute["order"] == 1 and attribute["variable"] is True
    assert attribute["values"][0] == {"key": "home", "name": "家中"}

    root = ET.fromstring(http.get(f"{V2}/services/water_pipe.xml").content)
    assert root.tag == "service_definition" and tags(root) == ["service_code", "attributes"]
    xml_attribute = root.find("attributes/attribute")
    assert xml_attribute is not None and tags(xml_attribute) == ATTRIBUTE_FIELDS
    assert [tags(v) for v in xml_attribute.findall("values/value")] == [["key", "name"]] * 3
    assert xml_attribute.findtext("values/value/name") == "家中"


def test_post_then_read_field_by_field(app: App, http: httpx.Client) -> None:
    key = new_key(app)
    # The spec's example post, with this community's service and a resident's registered phone.
    answer = post(
        http,
        key,
        lat="26.5783",
        long="106.7135",
        email="smith@example.com",
        device_id="tt222111",
        account_id="123456",
        first_name="john",
        last_name="smith",
        phone=RESIDENT_PHONE,
        description="厨房水管接头漏水",
        media_url="http://example.com/media/638344.jpg",
    )
    assert answer.status_code == 201, answer.text
    (filed,) = answer.json()
    assert list(filed) == POSTED_FIELDS
    assert filed["account_id"] is None and "联户长" in filed["service_notice"]
    rid = filed["service_request_id"]

    xml_answer = post(http, key, fmt="xml", description="楼道也在渗水", phone=RESIDENT_PHONE)
    assert xml_answer.status_code == 201
    root = ET.fromstring(xml_answer.content)
    assert root.tag == "service_requests" and tags(root[0]) == POSTED_FIELDS

    (request,) = http.get(f"{V2}/requests/{rid}.json").json()
    assert list(request) == REQUEST_FIELDS
    assert request["service_request_id"] == rid and request["status"] == "open"
    assert request["service_code"] == "water_pipe" and request["service_name"] == "水管漏水"
    assert request["status_notes"] == "已登记"
    assert request["agency_responsible"] == "联户长（3栋2单元联户单元）"
    assert request["address"] == "3 栋 2 单元"  # building and entrance, never the room
    assert request["lat"] == pytest.approx(26.5783) and request["long"] == pytest.approx(106.7135)
    assert request["media_url"] == "http://example.com/media/638344.jpg"
    assert request["requested_datetime"].endswith("+08:00")
    assert request["expected_datetime"] > request["requested_datetime"]
    assert "厨房水管接头漏水" in request["description"] and "漏水在哪里：家中" in request["description"]

    root = ET.fromstring(http.get(f"{V2}/requests/{rid}.xml").content)
    assert root.tag == "service_requests" and len(root) == 1
    assert root[0].tag == "request" and tags(root[0]) == REQUEST_FIELDS
    assert root[0].findtext("service_request_id") == rid and root[0].findtext("status") == "open"
    assert root[0].findtext("address_id") == ""


def spec_error(response: httpx.Response, code: int) -> str:
    assert response.status_code == code, response.text
    (err,) = response.json()
    assert list(err) == ["code", "description"] and err["code"] == code
    return str(err["description"])


def test_errors_in_the_spec_format(app: App, http: httpx.Client) -> None:
    key = new_key(app)
    reader = new_key(app, "只读", ("read",))
    assert "service_code" in spec_error(post(http, key, service_code="no_such_item"), 404)
    assert "service_code" in spec_error(http.get(f"{V2}/services/no_such_item.json"), 404)
    assert "api_key" in spec_error(post(http, None), 403)
    assert "api_key" in spec_error(post(http, None, service_code=""), 403)  # the key is checked first
    assert "service_code is required" in spec_error(post(http, key, service_code=""), 400)
    assert "api_key" in spec_error(post(http, "lh311_not_a_key"), 403)
    assert "write" in spec_error(post(http, reader), 403)
    assert "location" in spec_error(post(http, key, address_string=""), 400)
    assert "attribute[where]" in spec_error(post(http, key, **{"attribute[where]": ""}), 400)
    assert "unknown value" in spec_error(post(http, key, **{"attribute[where]": "roof"}), 400)
    assert "status" in spec_error(http.get(f"{V2}/requests.json", params={"status": "pending"}), 400)
    assert "start_date" in spec_error(
        http.get(f"{V2}/requests.json", params={"start_date": "yesterday"}), 400
    )
    assert "not found" in spec_error(http.get(f"{V2}/requests/000000.json"), 404)

    root = ET.fromstring(post(http, key, fmt="xml", service_code="no_such_item").content)
    assert root.tag == "errors" and tags(root[0]) == ["code", "description"]
    assert root[0].findtext("code") == "404"

    with app.db.session() as s:
        revoke_key(app.context(s), "1")
    assert "revoked" in spec_error(post(http, key), 403)


def test_rate_limited_key(app: App, http: httpx.Client) -> None:
    key = new_key(app, "小程序", ("read",), rate=3)
    for _ in range(3):
        assert http.get(f"{V2}/services.json", params={"api_key": key}).status_code == 200
    limited = http.get(f"{V2}/services.json", params={"api_key": key})
    assert "rate limit" in spec_error(limited, 429)
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert http.get(f"{V2}/services.json").status_code == 200  # other callers are not held up
    app.clock.advance(minutes=1)  # type: ignore[attr-defined]
    assert http.get(f"{V2}/services.json", params={"api_key": key}).status_code == 200


def test_filters_and_paging(app: App, http: httpx.Client) -> None:
    key = new_key(app)
    ids = []
    for i in range(3):
        ids.append(post(http, key, description=f"第{i}处").json()[0]["service_request_id"])
        app.clock.advance(minutes=5)  # type: ignore[attr-defined]
    lamp = post(http, key, service_code="lighting", description="楼道灯坏了").json()[0]["service_request_id"]

    def listing(**params: str) -> list[str]:
        response = http.get(f"{V2}/requests.json", params=params)
        assert response.status_code == 200, response.text
        return [r["service_request_id"] for r in response.json()]

    assert listing() == [lamp, *reversed(ids)]  # newest first
    assert listing(service_code="lighting") == [lamp]
    assert listing(service_code="water_pipe,lighting", status="open") == [lamp, *reversed(ids)]
    assert listing(status="closed") == []
    assert listing(service_request_id=f"{ids[0]},{lamp}") == [lamp, ids[0]]
    first = http.get(f"{V2}/requests.json", params={"page_size": "2"})
    assert [r["service_request_id"] for r in first.json()] == [lamp, ids[2]]
    assert 'rel="next"' in first.headers["Link"] and "page=2" in first.headers["Link"]
    assert listing(page_size="2", page="2") == [ids[1], ids[0]]
    assert "Link" not in http.get(f"{V2}/requests.json", params={"page_size": "2", "page": "2"}).headers
    later = (app.clock.now() + timedelta(minutes=1)).isoformat() + "+00:00"  # type: ignore[attr-defined]
    assert listing(start_date=later) == []
    assert listing(end_date="2000-01-01T00:00:00Z") == []
    assert listing(service_code="noise") == []


def test_public_get_has_no_personal_data(app: App, http: httpx.Client) -> None:
    key = new_key(app)
    private = new_key(app, "街道办", ("read", "private"))
    rid = post(
        http,
        key,
        phone=RESIDENT_PHONE,
        first_name="秀英",
        last_name="王",
        description="王秀英家 502 室水管爆了，电话 13800000502",
    ).json()[0]["service_request_id"]
    for path in (f"{V2}/requests.json", f"{V2}/requests/{rid}.json", f"{V2}/requests/{rid}.xml"):
        text = http.get(path).text.replace(rid, "<id>")  # a random id may itself hold 502
        for personal in ("王秀英", "13800000502", "502", "john"):
            assert personal not in text, (path, personal)
        assert "3 栋 2 单元" in text
    (public,) = http.get(f"{V2}/requests/{rid}.json").json()
    assert public["description"].startswith("***家 *** 室水管爆了")
    (full,) = http.get(f"{V2}/requests/{rid}.json", params={"api_key": private}).json()
    assert full["address"] == "3 栋 2 单元 502" and "王秀英" in full["description"]


def test_config_opt_out(app: App) -> None:
    import dataclasses

    app.settings = app.settings.with_overrides(
        open311=dataclasses.replace(app.settings.open311, public_read=False, public_descriptions=False)
    )
    server = LiveServer(app, workers=False)
    try:
        with httpx.Client(base_url=server.url, timeout=10) as http:
            key = new_key(app)
            rid = post(http, key, description="厨房漏水").json()[0]["service_request_id"]
            assert "api_key" in spec_error(http.get(f"{V2}/requests.json"), 403)
            (seen,) = http.get(f"{V2}/requests/{rid}.json", params={"api_key": key}).json()
            assert seen["description"] is None and seen["address"] == "3 栋 2 单元"
    finally:
        server.stop()
