"""The GeoReport v2 endpoints. Reads are plain `def` endpoints (Starlette's thread pool); a post reads
its body on the loop and files the ticket on a worker thread. Each call is one unit of work."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode

from fastapi import FastAPI, Request
from fastapi.responses import Response

from bot.app import App
from bot.open311.formats import FORMATS, ApiError, answer, error
from data.services import ServiceContext
from data.services.integrators import KeyInfo, key_for, set_webhook, spend
from data.services.open311 import Posted, RequestRefused, file_request
from data.services.open311_views import Query, find, one

PREFIX = "/open311/v2"


class Api:
    def __init__(self, app: App) -> None:
        self.app = app
        self.settings = app.settings.open311

    @contextmanager
    def unit(self) -> Iterator[ServiceContext]:
        with self.app.db.session() as s:
            yield self.app.context(s)

    def key(self, ctx: ServiceContext, params: Mapping[str, str], need: str | None) -> KeyInfo | None:
        """The caller's key (None: anonymous). Refuses a bad, revoked, over-budget or too-weak key."""
        presented = params.get("api_key", "")
        if not presented:
            if need is not None:
                raise ApiError(403, "api_key is required")
            return None
        key = key_for(ctx, presented)
        if key is None:
            raise ApiError(403, "api_key is invalid or revoked")
        wait = spend(ctx, key)
        if wait:
            raise ApiError(
                429, f"rate limit of {key.rate_per_minute} calls a minute reached", {"Retry-After": str(wait)}
            )
        if need is not None and not key.allows(need):
            raise ApiError(403, f"api_key lacks the {need} scope")
        return key

    def check_jurisdiction(self, params: Mapping[str, str]) -> None:
        wanted = self.settings.jurisdiction_id
        given = params.get("jurisdiction_id", "")
        if wanted and given and given != wanted:
            raise ApiError(404, f"jurisdiction_id {given!r} not found")


def _params(request: Request, body: Mapping[str, str] | None = None) -> dict[str, str]:
    params = dict(request.query_params)
    params.update(body or {})
    header = request.headers.get("x-api-key")
    if header and "api_key" not in params:
        params["api_key"] = header
    return params


def _format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise ApiError(404, f"format {fmt!r} not supported: use json or xml")
    return fmt


def _run(api: Api, fmt: str, work: Callable[[], Response]) -> Response:
    """One call: answer, or the spec's error. A refused call still keeps its rate count and audit."""
    try:
        _format(fmt)
        if not api.settings.enabled:
            raise ApiError(404, "Open311 is switched off here")
        return work()
    except ApiError as err:
        return error(fmt, err)
    except RequestRefused as err:
        return error(fmt, ApiError(err.code, err.description))


def _date(params: Mapping[str, str], name: str) -> datetime | None:
    raw = params.get(name, "").strip()
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError as err:
        raise ApiError(400, f"{name} must be an ISO 8601 date and time") from err
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def _int(params: Mapping[str, str], name: str, default: int, top: int) -> int:
    raw = params.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= top:
        raise ApiError(400, f"{name} must be a whole number from 1 to {top}")
    return int(raw)


def _list(params: Mapping[str, str], name: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in params.get(name, "").split(",") if v.strip())


def query_from(params: Mapping[str, str], page_size: int, max_page_size: int) -> Query:
    statuses = _list(params, "status")
    bad = [s for s in statuses if s not in ("open", "closed")]
    if bad:
        raise ApiError(400, f"status must be open or closed, not {bad[0]!r}")
    start, end = _date(params, "start_date"), _date(params, "end_date")
    if start and end and start > end:
        raise ApiError(400, "start_date is after end_date")
    return Query(
        ids=_list(params, "service_request_id"),
        service_codes=_list(params, "service_code"),
        start=start,
        end=end,
        statuses=statuses,
        page=_int(params, "page", 1, 100000),
        page_size=_int(params, "page_size", page_size, max_page_size),
    )


def posted_from(params: Mapping[str, str], attributes: dict[str, list[str]]) -> Posted:
    from nlu.entities import find_address

    def number(name: str) -> float | None:
        raw = params.get(name, "").strip()
        if not raw:
            return None
        try:
            return float(raw)
        except ValueError as err:
            raise ApiError(400, f"{name} must be a number") from err

    code = params.get("service_code", "").strip()
    if not code:
        raise ApiError(400, "service_code is required")
    address = params.get("address_string", "").strip()
    found = find_address(address.replace(" ", "")) if address else None
    return Posted(
        service_code=code,
        description=params.get("description", ""),
        lat=number("lat"),
        long=number("long"),
        address_string=address,
        address_id=params.get("address_id", ""),
        first_name=params.get("first_name", "").strip(),
        last_name=params.get("last_name", "").strip(),
        phone=params.get("phone", "").strip(),
        email=params.get("email", "").strip(),
        media_url=params.get("media_url", "").strip(),
        attributes=attributes,
        address_parts=(found.building, found.unit, found.room) if found else None,
    )


def parse_body(raw: bytes, content_type: str) -> tuple[dict[str, str], dict[str, list[str]]]:
    """A form-encoded (the spec) or JSON post: its fields, and attribute[CODE] answers apart."""
    if content_type.startswith("application/json"):
        import json

        try:
            data = json.loads(raw or b"{}")
        except ValueError as err:
            raise ApiError(400, "the body is not valid JSON") from err
        if not isinstance(data, dict):
            raise ApiError(400, "the body must be a JSON object")
        pairs = [(str(k), str(v)) for k, v in data.items() if not isinstance(v, dict)]
        pairs += [(f"attribute[{k}]", str(v)) for k, v in (data.get("attribute") or {}).items()]
    else:
        pairs = parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True)
    fields: dict[str, str] = {}
    attributes: dict[str, list[str]] = {}
    for name, value in pairs:
        if name.startswith("attribute[") and name.endswith("]"):
            code = name[len("attribute[") :].removesuffix("[]").removesuffix("]")  # attribute[c] or [c][]
            attributes.setdefault(code, []).append(value)
        else:
            fields[name] = value
    return fields, attributes


def mount(api_app: FastAPI, app: App) -> None:
    api = Api(app)
    from bot.open311.services import service_definition, service_list

    @api_app.get(PREFIX + "/services.{fmt}")
    def services(request: Request, fmt: str) -> Response:
        def work() -> Response:
            params = _params(request)
            api.check_jurisdiction(params)
            with api.unit() as ctx:
                api.key(ctx, params, None)
            return answer(fmt, "services", service_list(app.catalog))

        return _run(api, fmt, work)

    @api_app.get(PREFIX + "/services/{code}.{fmt}")
    def service(request: Request, code: str, fmt: str) -> Response:
        def work() -> Response:
            params = _params(request)
            api.check_jurisdiction(params)
            with api.unit() as ctx:
                api.key(ctx, params, None)
            body = service_definition(app.catalog, code)
            if body is None:
                raise ApiError(404, f"service_code {code!r} not found")
            return answer(fmt, "service_definition", body)

        return _run(api, fmt, work)

    @api_app.get(PREFIX + "/requests.{fmt}")
    def requests(request: Request, fmt: str) -> Response:
        def work() -> Response:
            params = _params(request)
            api.check_jurisdiction(params)
            query = query_from(params, api.settings.page_size, api.settings.max_page_size)
            with api.unit() as ctx:
                key = api.key(ctx, params, None if api.settings.public_read else "read")
                private = bool(key and key.allows("private"))
                page = find(
                    ctx,
                    query,
                    private=private,
                    descriptions=private or api.settings.public_descriptions,
                    default_days=api.settings.default_days,
                )
            headers = {}
            if page.has_more:
                nxt = {k: v for k, v in params.items() if k != "api_key"} | {"page": str(query.page + 1)}
                headers["Link"] = f'<{PREFIX}/requests.{fmt}?{urlencode(nxt)}>; rel="next"'
            return answer(fmt, "requests", page.requests, headers=headers)

        return _run(api, fmt, work)

    @api_app.get(PREFIX + "/requests/{request_id}.{fmt}")
    def request_one(request: Request, request_id: str, fmt: str) -> Response:
        def work() -> Response:
            params = _params(request)
            api.check_jurisdiction(params)
            with api.unit() as ctx:
                key = api.key(ctx, params, None if api.settings.public_read else "read")
                private = bool(key and key.allows("private"))
                found = one(
                    ctx, request_id, private=private, descriptions=private or api.settings.public_descriptions
                )
            if found is None:
                raise ApiError(404, f"service_request_id {request_id!r} not found")
            return answer(fmt, "requests", [found])

        return _run(api, fmt, work)

    @api_app.post(PREFIX + "/requests.{fmt}")
    async def post_request(request: Request, fmt: str) -> Response:
        raw = await request.body()

        def work() -> Response:
            fields, attributes = parse_body(raw, request.headers.get("content-type", ""))
            params = _params(request, fields)
            api.check_jurisdiction(params)
            with api.unit() as ctx:
                key = api.key(ctx, params, "write")
                assert key is not None
            posted = posted_from(params, attributes)
            with api.unit() as ctx:  # the rate count stands even when the request is refused
                filed = file_request(ctx, key, posted)
            body = [
                {
                    "service_request_id": filed.service_request_id,
                    "service_notice": filed.service_notice,
                    "account_id": None,
                }
            ]
            return answer(fmt, "requests", body, 201)

        return await asyncio.to_thread(_run, api, fmt, work)

    @api_app.post(PREFIX + "/webhooks.{fmt}")
    async def webhook(request: Request, fmt: str) -> Response:
        raw = await request.body()

        def work() -> Response:
            fields, _ = parse_body(raw, request.headers.get("content-type", ""))
            params = _params(request, fields)
            with api.unit() as ctx:
                key = api.key(ctx, params, "write")
            assert key is not None
            url = params.get("url", "").strip() or None
            with api.unit() as ctx:
                try:
                    secret = set_webhook(ctx, key, url)
                except ValueError as err:
                    raise ApiError(400, str(err)) from err
            return answer(
                fmt, "webhook", {"url": url, "secret": secret, "signature_header": "X-Lianhu-Signature"}
            )

        return await asyncio.to_thread(_run, api, fmt, work)
