"""The outbox: what the bot decides to say is stored with the decision, then sent, then marked.

A nudge is decided inside the sweep's transaction and a summary inside its claim's; the
same transaction records the message to send, leased to this process. After the commit
the process sends it and marks it sent. If the process dies in between, the row is still
there: on start the process frees the leases its earlier self held (same instance id),
and any replica takes over a row whose lease ran out. Before sending such a row again it
asks the platform whether the message already arrived (`Platform.find_sent`, by the
send's key), so a crash after the platform took it does not post it twice where the
platform can tell. Refusals are retried with backoff; a send still refused after a day,
or refused for good (no access to the channel), is logged with its context and dropped.
"""

from __future__ import annotations

import base64
import heapq
import itertools
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from bot.core.model import ChannelRef, MessageRef, Post, PostAction, PostItem, UserRef
from bot.core.platform import Platform, PlatformError
from bot.storage import outbox as sql
from bot.storage.outbox import OutboxRow
from bot.storage.repos import Repo

if TYPE_CHECKING:
    from bot.context import Context

log = logging.getLogger(__name__)

Target = ChannelRef | UserRef | MessageRef
# Long enough for a send with rate-limit waits; short enough that a replica picks up a
# dead one's work within minutes.
LEASE = timedelta(minutes=2)
FIRST_RETRY = timedelta(seconds=30)
LONGEST_WAIT = timedelta(minutes=30)
GIVE_UP_AFTER = timedelta(days=1)
CLAIM_BATCH = 50
NOT_NEEDED = "no longer needed"


@dataclass(frozen=True, slots=True)
class Send:
    """One message to send: a post in a channel, a DM, or a reply under a message.

    `key` names the decision (the same decision twice is one send); `meta` is what the
    kind's after-send hook needs (the questions a nudge was about, say).
    """

    kind: str
    key: str
    to: Target
    post: Post
    meta: Mapping[str, Any] = field(default_factory=dict)

    @property
    def platform(self) -> str:
        """The platform that carries it."""
        return self.to.platform


@dataclass(frozen=True, slots=True)
class SendHooks:
    """What a kind of send does around delivery, run on the database thread.

    `after` runs in the transaction that marks the send done (count the nudges);
    `wanted` is asked before sending again after a failure (is the question still
    waiting?), so a retry never tells staff about something already answered.
    """

    after: Callable[[Repo, Send, datetime, MessageRef], None] | None = None
    wanted: Callable[[Repo, Send], bool] | None = None


@dataclass(frozen=True, slots=True)
class _Outcome:
    row: OutboxRow
    send: Send | None
    result: Literal["sent", "retry", "fail"]
    at: datetime
    ref: MessageRef | None = None
    error: str = ""


def backoff(attempts: int) -> timedelta:
    """How long to wait before attempt `attempts + 1`: doubling, capped."""
    wait: timedelta = FIRST_RETRY * 2 ** min(max(attempts - 1, 0), 16)
    return min(wait, LONGEST_WAIT)


class Outbox:
    """Records sends inside units of work and delivers them after commit."""

    def __init__(self, owner: str, lease: timedelta = LEASE, *, durable: bool = True) -> None:
        self.owner = owner
        self.lease = lease
        # A replay posts nothing anywhere: its sends need no crash safety, and a row per
        # nudge would double the cost of replaying a million messages.
        self.durable = durable
        # Rows this process recorded and leased, waiting for their commit's delivery: a
        # heap by the moment each was decided (then by order recorded), because a replay's
        # unit of work records hundreds at several moments and delivers them moment by moment.
        self._ready: list[tuple[datetime, int, OutboxRow, Send]] = []
        self._recorded = itertools.count()

    def add(self, repo: Repo, send: Send, at: datetime) -> bool:
        """Record `send` in the current unit of work; False if its key was recorded before."""
        if not self.durable:
            kept = OutboxRow(0, send.key, send.kind, send.platform, "", at, 1)
            repo.on_commit.append(lambda: self._keep(kept, send))
            return True
        row = sql.insert_leased(
            repo, send.key, send.kind, send.platform, encode(send), at, self.owner, at + self.lease
        )
        if row is None:
            return False
        repo.on_commit.append(lambda: self._keep(row, send))
        return True

    def _keep(self, row: OutboxRow, send: Send) -> None:
        heapq.heappush(self._ready, (row.created_at, next(self._recorded), row, send))

    @property
    def has_ready(self) -> bool:
        """Whether sends recorded by this process wait for delivery."""
        return bool(self._ready)

    async def recover(self, ctx: Context) -> int:
        """On start: free the leases an earlier run under the same instance id died holding."""
        freed = await ctx.store.write(sql.release, self.owner)
        if freed:
            log.info("outbox: %d send(s) left by the previous run will be delivered", freed)
        return freed

    async def deliver(self, ctx: Context, *, claim: bool = True) -> int:
        """Send what this process recorded; with `claim`, also any due row nobody holds.

        Returns how many sends the platforms took. Marks are written with
        `Store.record`, so a replay's batch stores them with the rest of its work.
        """
        delivered = 0
        while True:
            # A replay's unit may decide sweeps at several moments: each send waits
            # for the virtual clock to reach the moment it was decided at.
            now = ctx.now()
            batch: list[tuple[OutboxRow, Send | None]] = []
            while self._ready and self._ready[0][0] <= now:
                _, _, row, send = heapq.heappop(self._ready)
                batch.append((row, send))
            more = bool(batch) and claim  # then look for due rows nobody holds
            if not batch and claim:
                rows = await ctx.store.write(
                    sql.claim, self.owner, now, now + self.lease, CLAIM_BATCH
                )
                batch = [(row, _decoded(row)) for row in rows]
                more = len(rows) == CLAIM_BATCH
            if not batch:
                return delivered
            outcomes = [await self._attempt(ctx, row, send) for row, send in batch]
            for outcome in outcomes:
                if outcome.send is None:
                    continue
                if outcome.result == "sent":
                    delivered += 1
                    ctx.telemetry.sent(outcome.send.kind, outcome.send.platform)
                elif outcome.error != NOT_NEEDED:
                    ctx.telemetry.send_failed(outcome.send.kind, outcome.send.platform)
            await ctx.store.record(self._finish, outcomes, ctx.router.send_hooks)
            if not more:
                return delivered

    async def _attempt(self, ctx: Context, row: OutboxRow, send: Send | None) -> _Outcome:
        now = ctx.now()
        if send is None:
            return _Outcome(row, None, "fail", now, error="unreadable payload")
        hooks: SendHooks = ctx.router.send_hooks.get(send.kind, SendHooks())
        try:
            platform = ctx.platform(send.platform)
        except LookupError as exc:
            return self._failed(row, send, now, str(exc), again=True)
        if row.attempts > 1:
            # An earlier attempt may have reached the platform (timeout, crash).
            if hooks.wanted is not None and not await ctx.store.read(hooks.wanted, send):
                log.info("outbox: %s %s no longer needed; not sent", send.kind, send.key)
                return _Outcome(row, send, "fail", now, error=NOT_NEEDED)
            found = await self._find(platform, row, send)
            if found is not None:
                log.info("outbox: %s %s had reached %s already", send.kind, send.key, platform.name)
                return _Outcome(row, send, "sent", now, ref=found)
        post = replace(send.post, key=send.key)
        try:
            if isinstance(send.to, MessageRef):
                ref = await platform.reply_in_thread(send.to, post)
            elif isinstance(send.to, UserRef):
                ref = await platform.dm(send.to, post)
            else:
                ref = await platform.post(send.to, post)
        except PlatformError as exc:
            return self._failed(row, send, now, str(exc), again=exc.retryable)
        return _Outcome(row, send, "sent", ctx.now(), ref=ref)

    async def _find(self, platform: Platform, row: OutboxRow, send: Send) -> MessageRef | None:
        if isinstance(send.to, MessageRef):
            return None  # thread replies are not looked up: outbox sends are posts and DMs
        try:
            post = replace(send.post, key=send.key)
            return await platform.find_sent(send.to, post, row.created_at - timedelta(minutes=1))
        except PlatformError as exc:
            log.warning("outbox: could not check whether %s was sent: %s", send.key, exc)
            return None

    def _failed(
        self, row: OutboxRow, send: Send, now: datetime, error: str, *, again: bool
    ) -> _Outcome:
        where = _describe(send.to)
        if again and now - row.created_at < GIVE_UP_AFTER:
            wait = backoff(row.attempts)
            log.warning(
                "%s to %s failed (attempt %d): %s; trying again in %ds",
                send.kind,
                where,
                row.attempts,
                error,
                wait.total_seconds(),
            )
            return _Outcome(row, send, "retry", now + wait, error=error)
        log.error(
            "%s to %s failed for good after %d attempt(s): %s",
            send.kind,
            where,
            row.attempts,
            error,
        )
        return _Outcome(row, send, "fail", now, error=error)

    def _finish(
        self, repo: Repo, outcomes: list[_Outcome], all_hooks: Mapping[str, SendHooks]
    ) -> None:
        for outcome in outcomes:
            row, send, ref = outcome.row, outcome.send, outcome.ref
            if outcome.result == "sent" and send is not None and ref is not None:
                if self.durable and not sql.mark_sent(
                    repo, row.id, self.owner, outcome.at, ref.message
                ):
                    continue  # our lease ran out and another process took the row over
                hooks = all_hooks.get(send.kind)
                if hooks is not None and hooks.after is not None:
                    hooks.after(repo, send, outcome.at, ref)
            elif not self.durable:
                continue  # no row to retry or fail: a replay's sends are not kept
            elif outcome.result == "retry":
                sql.retry_at(repo, row.id, self.owner, outcome.at, outcome.error)
            else:
                sql.fail(repo, row.id, self.owner, outcome.error or "failed")


def _describe(to: Target) -> str:
    if isinstance(to, UserRef):
        return f"{to.platform} user {to.user}"
    if isinstance(to, MessageRef):
        return f"{to.platform} thread {to.channel}/{to.message}"
    return f"{to.platform} channel {to.channel}"


# --- payloads ----------------------------------------------------------------------


def _ref(ref: MessageRef | None) -> list[str] | None:
    return None if ref is None else [ref.platform, ref.space, ref.channel, ref.message]


def encode(send: Send) -> str:
    """A send as JSON for the outbox row (the image, if any, base64-encoded)."""
    post = send.post
    to = send.to
    target: dict[str, Any]
    if isinstance(to, MessageRef):
        target = {"message": _ref(to)}
    elif isinstance(to, UserRef):
        target = {"user": [to.platform, to.space, to.user, to.name]}
    else:
        target = {"channel": [to.platform, to.space, to.channel]}
    body = {
        "text": post.text,
        "title": post.title,
        "items": [[i.text, _ref(i.link)] for i in post.items],
        "footer": post.footer,
        "more": post.more,
        "image": base64.b64encode(post.image).decode("ascii") if post.image else None,
        "image_name": post.image_name,
        "fields": [list(f) for f in post.fields],
        "actions": [[a.id, a.label, a.value, a.style] for a in post.actions],
        "notify": [list(n) for n in post.notify],
    }
    return json.dumps(
        {"kind": send.kind, "key": send.key, "to": target, "post": body, "meta": dict(send.meta)},
        ensure_ascii=False,
        separators=(",", ":"),
    )


def decode(text: str) -> Send:
    """The send a row holds; ValueError when the payload is not one."""
    try:
        data = json.loads(text)
        to = data["to"]
        target: Target
        if "message" in to:
            target = MessageRef(*to["message"])
        elif "user" in to:
            platform, space, user, name = to["user"]
            target = UserRef(platform, space, user, name)
        else:
            target = ChannelRef(*to["channel"])
        body = data["post"]
        post = Post(
            text=body["text"],
            title=body["title"],
            items=tuple(
                PostItem(text, MessageRef(*link) if link else None) for text, link in body["items"]
            ),
            footer=body["footer"],
            more=body["more"],
            image=base64.b64decode(body["image"]) if body["image"] else None,
            image_name=body["image_name"],
            fields=tuple((label, value) for label, value in body["fields"]),
            actions=tuple(PostAction(*action) for action in body["actions"]),
            notify=tuple((kind, who) for kind, who in body["notify"]),
        )
        return Send(data["kind"], data["key"], target, post, data["meta"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"not an outbox payload: {exc}") from exc


def _decoded(row: OutboxRow) -> Send | None:
    try:
        return decode(row.payload)
    except ValueError as exc:
        log.error("outbox row %d (%s) is unreadable and is dropped: %s", row.id, row.key, exc)
        return None
