"""The community workbench (社区工作台) at /workbench: sign-in, board, matters, registry, figures, data
map, alerts, notice receipts and audit log for community staff, grid workers and leaders. Server-rendered Jinja2
pages on the same server as the chat; plain JS and a vendored ECharts in static/, no build step."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

    from bot.app import App


def mount(api: FastAPI, app: App) -> None:
    """Add the workbench's routes and static files to the server."""
    from fastapi import Request
    from fastapi.responses import Response
    from fastapi.staticfiles import StaticFiles

    from bot.workbench import auth, board, desk, figures, matter, notices, registry
    from bot.workbench.web import HERE, PREFIX, Refused, SignInNeeded, Workbench, sign_in_redirect

    wb = Workbench(app)
    api.mount(f"{PREFIX}/static", StaticFiles(directory=HERE / "static"), name="workbench-static")

    @api.exception_handler(SignInNeeded)
    async def _sign_in(_request: Request, exc: SignInNeeded) -> Response:
        return sign_in_redirect(exc.next_url)

    @api.exception_handler(Refused)
    async def _refused(request: Request, exc: Refused) -> Response:
        return wb.refused(request, exc)

    for module in (auth, board, matter, registry, figures, desk, notices):
        module.mount(api, wb)
