"""A matter's page: its whole history, who was told, ratings, recorded messages; and the steps
(accept, assign, refer to a service resource, escalate, note, resolve, close, reopen, verify) through the chat's own services."""

from __future__ import annotations

from fastapi import FastAPI, Form, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from bot.workbench.web import PREFIX, Refused, RowId, Workbench, back, small_int
from core.errors import NotFoundError, PermissionDenied
from data import workflow
from data.services.matters import NoteRequired, act, matter, recording_path


def mount(api: FastAPI, wb: Workbench) -> None:
    recordings = wb.app.settings.path(wb.app.settings.paths.recordings)

    @api.get(f"{PREFIX}/matters/{{no}}")
    def matter_page(request: Request, no: str) -> HTMLResponse:
        session = wb.session(request, "board")
        with wb.unit() as ctx:  # a refusal is caught inside the unit, so its audit row is kept
            try:
                m = matter(ctx, session.actor, no[:12])
            except NotFoundError:
                m = None
            if m is not None:
                return wb.page(request, "matter.html", session, m=m, title=f"单号 {m.ticket.public_no}")
        raise Refused(404, "workbench.not_found")

    @api.post(f"{PREFIX}/matters/{{no}}/act")
    def matter_act(
        request: Request,
        no: str,
        csrf: str = Form(""),
        op: str = Form(""),
        note: str = Form(""),
        staff: str = Form(""),
        resource: str = Form(""),
    ) -> Response:
        session = wb.session(request, "board")
        wb.check_csrf(request, session, csrf)
        path = f"{PREFIX}/matters/{no}"
        refusal: Exception | None = None
        with wb.unit() as ctx:  # refusals are caught inside the unit: their audit rows are kept
            try:
                act(ctx, session.actor, no[:12], op, note[:2000], small_int(staff), resource[:48])
            except (NotFoundError, PermissionDenied, NoteRequired, workflow.TransitionError) as err:
                refusal = err
        if isinstance(refusal, NotFoundError):
            raise Refused(404, "workbench.not_found")
        if isinstance(refusal, PermissionDenied):
            raise Refused(403, "workbench.not_found")
        if isinstance(refusal, NoteRequired):
            return back(path, "workbench.note_required")
        if refusal is not None:
            return back(path, "workbench.not_allowed")
        return back(path, "workbench.done", op)

    @api.get(f"{PREFIX}/matters/{{no}}/recording/{{event_id}}")
    def recording(request: Request, no: str, event_id: RowId) -> Response:
        session = wb.session(request, "board")
        with wb.unit() as ctx:
            try:
                path = recording_path(ctx, session.actor, no[:12], event_id, recordings)
            except NotFoundError:
                path = None
        if path is None:
            raise Refused(404, "workbench.not_found")
        return FileResponse(path, media_type="audio/wav", headers={"Cache-Control": "no-store"})
