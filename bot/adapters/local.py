"""An in-process platform: the demo's and the tests' Slack/Discord.

It implements the Platform port and keeps a transcript of everything the bot said,
so a test can assert on what a member or staff would have seen.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from bot.core.clock import Clock
from bot.core.model import ChannelRef, Message, MessageRef, Post, UserRef
from bot.core.platform import PlatformError

PLATFORM = "local"


@dataclass(frozen=True, slots=True)
class Sent:
    """One thing the bot said, as a member or staff would see it."""

    at: datetime
    kind: str  # post | thread | dm | react
    where: str  # channel id, thread root ref, or user id
    text: str
    post: Post | None = None
    ref: MessageRef | None = None


@dataclass
class LocalPlatform:
    """The Platform port over plain lists; staff are user ids."""

    clock: Clock
    staff: frozenset[str] = frozenset()
    private: frozenset[str] = frozenset()
    space: str = "local"
    name: str = PLATFORM
    transcript: list[Sent] = field(default_factory=list)
    messages: dict[str, list[Message]] = field(default_factory=dict)
    fail_next: int = 0
    on_send: Callable[[Sent], None] | None = None
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def _next_ref(self, channel: str) -> MessageRef:
        return MessageRef(self.name, self.space, channel, f"bot-{next(self._ids)}")

    def _record(self, sent: Sent) -> None:
        if self.fail_next > 0:
            # Lets tests rehearse a platform outage without a network.
            self.fail_next -= 1
            raise PlatformError("local platform asked to fail", retryable=True)
        self.transcript.append(sent)
        if self.on_send is not None:
            self.on_send(sent)

    async def post(self, channel: ChannelRef, post: Post) -> MessageRef:
        """Post in a channel; pinged users and groups come first as @id."""
        ref = self._next_ref(channel.channel)
        pings = " ".join(f"@{who}" for _, who in post.notify)
        text = f"{pings} {post.text}" if pings else post.text
        self._record(Sent(self.clock.now(), "post", channel.channel, text, post, ref))
        return ref

    async def reply_in_thread(self, message: MessageRef, post: Post) -> MessageRef:
        """Reply under a message."""
        ref = self._next_ref(message.channel)
        where = f"{message.channel}/{message.message}"
        self._record(Sent(self.clock.now(), "thread", where, post.text, post, ref))
        return ref

    async def dm(self, user: UserRef, post: Post) -> MessageRef:
        """Message a user directly."""
        ref = self._next_ref(f"dm-{user.user}")
        self._record(Sent(self.clock.now(), "dm", user.user, post.text, post, ref))
        return ref

    async def update(self, message: MessageRef, post: Post) -> None:
        """Replace a bot message's content (kept in the transcript as an update)."""
        where = f"{message.channel}/{message.message}"
        self._record(Sent(self.clock.now(), "update", where, post.text, post, message))

    async def fetch(self, message: MessageRef) -> Message | None:
        """A community message seen with remember(), or None."""
        for seen in self.messages.get(message.channel, []):
            if seen.ref == message:
                return seen
        return None

    async def is_private(self, channel: ChannelRef) -> bool:
        """Private channels are the ones listed in `private`."""
        return channel.channel in self.private

    async def react(self, message: MessageRef, emoji: str) -> None:
        """React to a message."""
        where = f"{message.channel}/{message.message}"
        self._record(Sent(self.clock.now(), "react", where, emoji))

    async def permalink(self, message: MessageRef) -> str:
        """A local link: local://<channel>/<message>."""
        return f"local://{message.channel}/{message.message}"

    def parse_link(self, link: str) -> MessageRef | None:
        """The message a local:// link points at, or None when it is not one."""
        body = link.strip("<>").removeprefix("local://")
        if body == link.strip("<>") or body.count("/") != 1:
            return None
        channel, message = body.split("/")
        return MessageRef(self.name, self.space, channel, message) if channel and message else None

    async def is_staff(self, user: UserRef) -> bool:
        """Staff are the configured local user ids."""
        return user.user in self.staff

    async def find_sent(
        self, where: ChannelRef | UserRef, post: Post, since: datetime
    ) -> MessageRef | None:
        """A post or DM in the transcript carrying the post's key, sent after `since`."""
        target = where.channel if isinstance(where, ChannelRef) else where.user
        for sent in reversed(self.transcript):
            if sent.at < since:
                break
            if sent.post is not None and sent.post.key == post.key and sent.where == target:
                return sent.ref
        return None

    async def history(self, channel: ChannelRef, after: datetime | None) -> AsyncIterator[Message]:
        """Community messages seen in a channel, oldest first."""
        for message in self.messages.get(channel.channel, []):
            if after is None or message.posted_at > after:
                yield message

    def remember(self, message: Message) -> None:
        """Keep a community message so history() can return it (backfill tests)."""
        self.messages.setdefault(message.ref.channel, []).append(message)

    def sent(self, kind: str | None = None) -> list[Sent]:
        """What the bot said, optionally of one kind."""
        return [s for s in self.transcript if kind is None or s.kind == kind]
