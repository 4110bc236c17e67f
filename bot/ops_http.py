"""The operations endpoints: GET /healthz (JSON) and GET /metrics (Prometheus text format).

`Ops(app, adapters).routes()` builds them. In Slack HTTP mode the Slack adapter serves
them on its own web server next to /slack/events; otherwise `serve()` runs a small
aiohttp server for them alone (`--ops-port`, FRONTLINE_OPS_PORT). /healthz answers 200
when the database answers a query within a short timeout and every adapter is
connected, else 503 saying what is wrong; nothing in either answer is secret.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, Protocol

from aiohttp import web
from prometheus_client.aiohttp import make_aiohttp_handler

if TYPE_CHECKING:
    from bot.app import Frontline

log = logging.getLogger(__name__)

DEFAULT_OPS_PORT = 9000
DATABASE_TIMEOUT = 2.0
ADAPTER_TIMEOUT = 2.0
OK = "ok"
CONNECTED = "connected"


class Monitored(Protocol):
    """An adapter as /healthz sees it."""

    name: str

    async def connected(self) -> bool:
        """Whether its platform connection is up now."""
        ...


class RouteHost(Protocol):
    """An adapter with a web server of its own that serves extra routes (Slack HTTP mode)."""

    routes: list[web.AbstractRouteDef]


def _problem(exc: BaseException, timeout: float) -> str:
    if isinstance(exc, TimeoutError):
        return f"no answer within {timeout:g}s"
    # The type and the first line say what broke; the rest may be long.
    text = str(exc).splitlines()[0][:200] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class Ops:
    """Health and metrics of one running bot and its adapters."""

    def __init__(
        self,
        app: Frontline,
        adapters: Sequence[Monitored],
        *,
        database_timeout: float = DATABASE_TIMEOUT,
        adapter_timeout: float = ADAPTER_TIMEOUT,
    ) -> None:
        self.app = app
        self.adapters = list(adapters)
        self.database_timeout = database_timeout
        self.adapter_timeout = adapter_timeout
        self._metrics = make_aiohttp_handler(app.ctx.telemetry.registry)

    async def database(self) -> str:
        """`ok`, or what went wrong reading from the store."""
        try:
            # Any read proves the database answers; this one uses an index and returns
            # one value, on every backend the store supports.
            await asyncio.wait_for(self.app.ctx.store.next_due_at(), self.database_timeout)
        except Exception as exc:
            return _problem(exc, self.database_timeout)
        return OK

    async def adapter(self, adapter: Monitored) -> str:
        """`connected`, `disconnected`, or what went wrong asking."""
        try:
            up = await asyncio.wait_for(adapter.connected(), self.adapter_timeout)
        except Exception as exc:
            return _problem(exc, self.adapter_timeout)
        return CONNECTED if up else "disconnected"

    async def health(self) -> dict[str, Any]:
        """The /healthz answer: status "ok" or "unavailable", the database and each adapter."""
        database, *states = await asyncio.gather(
            self.database(), *(self.adapter(a) for a in self.adapters)
        )
        adapters = {a.name: state for a, state in zip(self.adapters, states, strict=True)}
        healthy = database == OK and all(state == CONNECTED for state in adapters.values())
        return {
            "status": OK if healthy else "unavailable",
            "database": database,
            "adapters": adapters,
        }

    async def healthz(self, request: web.Request) -> web.Response:
        """GET /healthz: 200 when healthy, else 503; the body says which part is not."""
        report = await self.health()
        return web.json_response(report, status=200 if report["status"] == OK else 503)

    async def metrics(self, request: web.Request) -> web.StreamResponse:
        """GET /metrics: every metric of this bot, the waiting count refreshed if stale."""
        await self.app.ctx.telemetry.refresh_waiting(self.app.ctx.store)
        return await self._metrics(request)

    def routes(self) -> list[web.AbstractRouteDef]:
        """GET /healthz and GET /metrics."""
        return [web.get("/healthz", self.healthz), web.get("/metrics", self.metrics)]


@asynccontextmanager
async def serve(
    ops: Ops, *, host: str, port: int | None, route_host: RouteHost | None = None
) -> AsyncIterator[str | None]:
    """Serve the endpoints while the block runs; yields their base URL when known.

    With `route_host` (the Slack adapter in HTTP mode) they are added to its server and
    nothing else listens. `port` None turns them off; 0 takes any free port. A port that
    cannot be bound is logged as an error and the bot runs on without the endpoints:
    answering the community matters more than being watched.
    """
    if route_host is not None:
        route_host.routes.extend(ops.routes())
        log.info("health and metrics are served next to /slack/events")
        yield None
        return
    if port is None:
        log.info("health and metrics endpoints are off")
        yield None
        return
    web_app = web.Application()
    web_app.add_routes(ops.routes())
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    try:
        url: str | None = None
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError as exc:
            log.error(
                "health and metrics are not served: cannot listen on %s:%s (%s); "
                "choose another --ops-port / FRONTLINE_OPS_PORT, or 'off'",
                host,
                port,
                exc.strerror or exc,
            )
        else:
            bound_host, bound_port = runner.addresses[0][:2]
            url = f"http://{bound_host}:{bound_port}"
            log.info("health at %s/healthz, metrics at %s/metrics", url, url)
        yield url
    finally:
        await runner.cleanup()
