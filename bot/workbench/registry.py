"""The registry (台账): households and residents, leaders and grid workers; edits, import with a
preview of what would change, export, printable invitation cards."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path
from typing import Annotated

import segno
from fastapi import FastAPI, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from bot.workbench.web import (
    PREFIX,
    XLSX,
    PageNo,
    Refused,
    RowId,
    Workbench,
    back,
    download,
    small_int,
)
from core.errors import NotFoundError, PermissionDenied
from data.importer import MAX_ROWS, ImportFailed
from data.services import ledger

MAX_UPLOAD = 5 * 1024 * 1024
SUFFIXES = (".csv", ".xlsx")


def mount(api: FastAPI, wb: Workbench) -> None:
    uploads = wb.app.settings.path(wb.app.settings.paths.var_dir) / "imports"

    @api.get(f"{PREFIX}/registry")
    def registry(request: Request, q: str = "", unit: str = "", page: PageNo = 1) -> HTMLResponse:
        session = wb.session(request, "registry")
        with wb.unit() as ctx:
            result = ledger.households(ctx, session.actor, q[:50], small_int(unit), page)
            people = ledger.staff_list(ctx, session.actor)
            query = {k: v for k, v in (("q", q), ("unit", unit)) if v}
            return wb.page(
                request,
                "registry.html",
                session,
                r=result,
                people=people,
                q=q,
                unit=unit,
                query=query,
                title="台账",
            )

    @api.get(f"{PREFIX}/registry/residents/{{resident_id}}")
    def resident_page(request: Request, resident_id: RowId) -> HTMLResponse:
        session = wb.session(request, "registry")
        with wb.unit() as ctx:
            try:
                person, address = ledger.resident(ctx, session.actor, resident_id)
            except NotFoundError:
                person = None
            if person is not None:
                return wb.page(
                    request, "resident.html", session, p=person, address=address, title=person.name
                )
        raise Refused(404, "workbench.not_found")

    @api.post(f"{PREFIX}/registry/residents/{{resident_id}}")
    def resident_save(
        request: Request,
        resident_id: RowId,
        csrf: str = Form(""),
        name: str = Form(""),
        phone: str = Form(""),
        birth_year: str = Form(""),
        lives_alone: str = Form(""),
        prefers_voice: str = Form(""),
    ) -> Response:
        session = wb.session(request, "registry")
        wb.check_csrf(request, session, csrf)
        path = f"{PREFIX}/registry/residents/{resident_id}"
        try:
            with wb.unit() as ctx:
                ledger.update_resident(
                    ctx,
                    session.actor,
                    resident_id,
                    name=name[:50],
                    phone=phone.strip()[:20],
                    birth_year=small_int(birth_year, 4),
                    lives_alone=lives_alone == "1",
                    prefers_voice=prefers_voice == "1",
                )
        except NotFoundError:
            raise Refused(404, "workbench.not_found") from None
        except ValueError:
            return back(path, "workbench.bad_input")
        return back(path, "workbench.saved")

    @api.post(f"{PREFIX}/registry/staff/{{staff_id}}")
    def staff_save(
        request: Request,
        staff_id: RowId,
        csrf: str = Form(""),
        name: str = Form(""),
        phone: str = Form(""),
        active: str = Form(""),
    ) -> Response:
        session = wb.session(request, "registry_import")
        wb.check_csrf(request, session, csrf)
        try:
            with wb.unit() as ctx:
                ledger.update_staff(
                    ctx,
                    session.actor,
                    staff_id,
                    name=name[:50],
                    phone=phone.strip()[:20],
                    active=active == "1",
                )
        except (NotFoundError, PermissionDenied):
            raise Refused(404, "workbench.not_found") from None
        except ValueError:
            return back(f"{PREFIX}/registry", "workbench.bad_input")
        return back(f"{PREFIX}/registry", "workbench.saved")

    @api.get(f"{PREFIX}/registry/import")
    def import_page(request: Request) -> HTMLResponse:
        session = wb.session(request, "registry_import")
        return wb.page(request, "import.html", session, preview=None, max_rows=MAX_ROWS, title="导入台账")

    @api.post(f"{PREFIX}/registry/import")
    async def import_upload(
        request: Request, file: Annotated[UploadFile, File()], csrf: str = Form("")
    ) -> Response:
        session = await asyncio.to_thread(wb.session, request, "registry_import")
        wb.check_csrf(request, session, csrf)
        suffix = Path(file.filename or "").suffix.lower()
        data = await file.read(MAX_UPLOAD + 1)
        if suffix not in SUFFIXES or len(data) > MAX_UPLOAD:
            return back(f"{PREFIX}/registry/import", "workbench.import_bad")
        uploads.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(16)
        stored = uploads / f"{key}{suffix}"
        stored.write_bytes(data)

        def preview() -> ledger.ImportPreview:
            with wb.unit() as ctx:
                return ledger.preview_import(ctx, session.actor, stored)

        result = await asyncio.to_thread(preview)
        if result.problems:
            stored.unlink(missing_ok=True)
        return wb.page(
            request,
            "import.html",
            session,
            preview=result,
            key=f"{key}{suffix}",
            filename=file.filename or "",
            max_rows=MAX_ROWS,
            title="导入台账",
        )

    @api.post(f"{PREFIX}/registry/import/confirm")
    def import_confirm(request: Request, csrf: str = Form(""), key: str = Form("")) -> Response:
        session = wb.session(request, "registry_import")
        wb.check_csrf(request, session, csrf)
        stored = uploads / Path(key).name
        if not key or stored.suffix not in SUFFIXES or not stored.is_file():
            return back(f"{PREFIX}/registry/import", "workbench.import_bad")
        try:
            with wb.unit() as ctx:
                summary = ledger.run_import(ctx, session.actor, stored)
        except ImportFailed:
            return back(f"{PREFIX}/registry/import", "workbench.import_bad")
        finally:
            stored.unlink(missing_ok=True)
        return back(f"{PREFIX}/registry", "workbench.import_done", summary)

    @api.get(f"{PREFIX}/registry/export.{{fmt}}")
    def export(request: Request, fmt: str) -> Response:
        session = wb.session(request, "registry_import")
        if fmt not in ("csv", "xlsx"):
            raise Refused(404, "workbench.not_found")
        with wb.unit() as ctx:
            rows = ledger.export_rows(ctx, session.actor)
        if fmt == "csv":
            return download(ledger.as_csv(rows), "text/csv; charset=utf-8", "registry.csv")
        return download(ledger.as_xlsx(rows), XLSX, "registry.xlsx")

    @api.post(f"{PREFIX}/registry/households/{{household_id}}/card")
    def card(request: Request, household_id: RowId, csrf: str = Form("")) -> Response:
        session = wb.session(request, "registry")
        wb.check_csrf(request, session, csrf)
        with wb.unit() as ctx:
            try:
                address, lines = ledger.invitation_card(
                    ctx, session.actor, household_id, wb.app.settings.server.base_url
                )
            except NotFoundError:
                lines, address = [], ""
        if not address:
            raise Refused(404, "workbench.not_found")
        qrs = [Markup(segno.make(line.link, error="m").svg_inline(scale=3, dark="#111")) for line in lines]
        return wb.page(
            request,
            "card.html",
            session,
            address=address,
            lines=list(zip(lines, qrs, strict=True)),
            title="邀请卡",
        )
