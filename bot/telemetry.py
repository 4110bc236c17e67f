"""Operational metrics for Prometheus, on a registry each running bot owns.

Each `Frontline` gets its own `Telemetry` (and `CollectorRegistry`) in its context, so
tests and several bots in one process never add to each other's counts. The router
counts inbound events and times their handlers (`dispatching`); `setup()` subscribes to
the tracker's domain events to count questions opened, answered and breached; adapters
report failed platform calls (`platform_error`); whoever sends a nudge, an escalation or
a summary reports it with `sent()` / `send_failed()`. The number of questions waiting is
counted from the store when /metrics is scraped (`refresh_waiting`), at most every few
seconds, on the database thread, so a scrape never blocks the event loop on SQL.

Nothing here imports a platform SDK: the core may use it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bot.core.events import Inbound, QuestionAnswered, QuestionBreached, QuestionOpened
from bot.logs import event_context

if TYPE_CHECKING:
    from bot.context import Context
    from bot.core.router import Router
    from bot.storage.repos import Store

log = logging.getLogger(__name__)

# Handling an event is mostly SQLite work (milliseconds) and sometimes platform calls
# (a nudge post, a staff lookup: up to seconds, more while rate limited).
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
WAITING_TTL = 5.0
WAITING_TIMEOUT = 2.0
UNKNOWN = "unknown"


def event_fields(event: object) -> dict[str, str]:
    """Platform, event kind and channel of an inbound or domain event, as far as it says."""
    holder = getattr(event, "message", None) or getattr(event, "question", None)
    ref: Any = (
        getattr(holder, "ref", None)
        or getattr(event, "ref", None)
        or getattr(event, "target", None)
        or getattr(event, "channel", None)
    )
    fields = {"event": type(event).__name__}
    user = getattr(event, "user", None)
    platform = getattr(ref, "platform", None) or getattr(user, "platform", None)
    if isinstance(platform, str):
        fields["platform"] = platform
    channel = getattr(ref, "channel", None)
    if isinstance(channel, str) and channel:
        fields["channel"] = channel
    return fields


class _Waiting(Collector):
    """`frontline_questions_waiting` from the last count; absent while it is unknown."""

    def __init__(self) -> None:
        self.value: int | None = None

    def collect(self) -> Iterator[Metric]:
        """The cached count (the scrape handler refreshed it just before)."""
        if self.value is not None:
            yield GaugeMetricFamily(
                "frontline_questions_waiting",
                "Questions still without any response (open or snoozed), counted at scrape time.",
                value=self.value,
            )

    def describe(self) -> Iterator[Metric]:
        """Nothing to describe up front: the value may be unknown at registration."""
        return iter(())


class Telemetry:
    """The metrics of one running bot."""

    def __init__(
        self, *, waiting_ttl: float = WAITING_TTL, waiting_timeout: float = WAITING_TIMEOUT
    ) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        # The usual process_*, python_info and python_gc_* series, as on the default registry.
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        GCCollector(registry=registry)
        self.events = Counter(
            "frontline_events",
            "Inbound platform events handed to the core, by platform and kind.",
            ("platform", "kind"),
            registry=registry,
        )
        self.handling = Histogram(
            "frontline_event_handling_seconds",
            "Time the handlers of one event took, by event kind (inbound and domain events).",
            ("kind",),
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.opened = Counter(
            "frontline_questions_opened",
            "Messages recognised as questions and tracked, by platform.",
            ("platform",),
            registry=registry,
        )
        self.answered = Counter(
            "frontline_questions_answered",
            "Questions that got their first response, by platform and responder (staff/community).",
            ("platform", "by"),
            registry=registry,
        )
        self.breached = Counter(
            "frontline_questions_breached",
            "Questions that passed their response-time target without a response, by platform.",
            ("platform",),
            registry=registry,
        )
        self.posts_sent = Counter(
            "frontline_posts_sent",
            "Posts the bot sent on its own initiative (nudge, escalation, summary), by platform.",
            ("kind", "platform"),
            registry=registry,
        )
        self.posts_failed = Counter(
            "frontline_posts_failed",
            "Posts the platform refused or dropped, by kind and platform.",
            ("kind", "platform"),
            registry=registry,
        )
        self.api_errors = Counter(
            "frontline_platform_api_errors",
            "Failed platform API calls, by platform, method and whether a retry may work.",
            ("platform", "method", "retryable"),
            registry=registry,
        )
        # Label children by key: replay dispatches hundreds of thousands of events, and
        # `labels()` costs a lock and a tuple each time.
        self._events: dict[tuple[str, str], Counter] = {}
        self._timers: dict[str, Histogram] = {}
        self._waiting = _Waiting()
        registry.register(self._waiting)
        self.waiting_ttl = waiting_ttl
        self.waiting_timeout = waiting_timeout
        self._waiting_at = float("-inf")
        self._waiting_lock = asyncio.Lock()

    # -- recording -------------------------------------------------------------------

    @contextmanager
    def dispatching(self, event: object) -> Iterator[None]:
        """Count an inbound event and time its handlers; log lines inside carry its fields."""
        fields = event_fields(event)
        kind = fields["event"]
        if isinstance(event, Inbound):
            key = (fields.get("platform", UNKNOWN), kind)
            counter = self._events.get(key)
            if counter is None:
                counter = self._events[key] = self.events.labels(*key)
            counter.inc()
        timer = self._timers.get(kind)
        if timer is None:
            timer = self._timers[kind] = self.handling.labels(kind)
        started = time.perf_counter()
        try:
            with event_context(fields):
                yield
        finally:
            timer.observe(time.perf_counter() - started)

    def sent(self, kind: str, platform: str) -> None:
        """A post of `kind` (nudge, escalation, summary, ...) went out on `platform`."""
        self.posts_sent.labels(kind, platform).inc()

    def send_failed(self, kind: str, platform: str) -> None:
        """A post of `kind` could not be sent on `platform`."""
        self.posts_failed.labels(kind, platform).inc()

    def platform_error(self, platform: str, method: str, retryable: bool) -> None:
        """A platform API call (`method`: an API method or route) failed."""
        self.api_errors.labels(platform, method, "true" if retryable else "false").inc()

    # -- the waiting gauge -----------------------------------------------------------

    @property
    def waiting(self) -> int | None:
        """The last count of questions waiting, None until counted (or when it failed)."""
        return self._waiting.value

    async def refresh_waiting(self, store: Store) -> None:
        """Count the waiting questions again unless the last count is recent.

        The count runs on the database thread with a timeout; when it fails or times
        out the gauge is left out of the scrape rather than shown stale.
        """
        async with self._waiting_lock:
            if time.monotonic() - self._waiting_at < self.waiting_ttl:
                return
            try:
                value: int | None = await asyncio.wait_for(
                    store.count_waiting(), self.waiting_timeout
                )
            except Exception as exc:
                log.warning("counting waiting questions for /metrics failed: %r", exc)
                value = None
            self._waiting.value = value
            self._waiting_at = time.monotonic()


def setup(router: Router[Context]) -> None:
    """Count the tracker's question events (registered like a feature handler)."""

    @router.on(QuestionOpened)
    async def opened(event: QuestionOpened, ctx: Context) -> None:
        ctx.telemetry.opened.labels(event.question.ref.platform).inc()

    @router.on(QuestionAnswered)
    async def answered(event: QuestionAnswered, ctx: Context) -> None:
        role = event.question.responder_role
        by = role.value if role is not None else UNKNOWN
        ctx.telemetry.answered.labels(event.question.ref.platform, by).inc()

    @router.on(QuestionBreached)
    async def breached(event: QuestionBreached, ctx: Context) -> None:
        ctx.telemetry.breached.labels(event.question.ref.platform).inc()
