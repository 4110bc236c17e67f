"""The Platform port: everything handlers may ask of Slack, Discord or the local platform."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Protocol, runtime_checkable

from bot.core.model import ChannelRef, Message, MessageRef, Post, UserRef


class PlatformError(Exception):
    """A platform call failed.

    `retryable`: trying again later may work. `maybe_done`: no answer came back (a
    timeout, a dropped connection), so the platform may have acted anyway; resending
    could then post twice.
    """

    def __init__(self, message: str, *, retryable: bool = False, maybe_done: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.maybe_done = maybe_done

    @property
    def safe_to_resend(self) -> bool:
        """The platform answered that it did not do it, and later may work."""
        return self.retryable and not self.maybe_done


@runtime_checkable
class Platform(Protocol):
    """One connected chat platform, seen through core types only."""

    name: str

    async def post(self, channel: ChannelRef, post: Post) -> MessageRef:
        """Post a new top-level message in `channel`."""
        ...

    async def reply_in_thread(self, message: MessageRef, post: Post) -> MessageRef:
        """Reply in the thread (or reply chain, or forum post) of `message`."""
        ...

    async def dm(self, user: UserRef, post: Post) -> MessageRef:
        """Send `user` a direct message."""
        ...

    async def update(self, message: MessageRef, post: Post) -> None:
        """Replace the content of a message the bot posted (an escalation's state)."""
        ...

    async def fetch(self, message: MessageRef) -> Message | None:
        """A message by its ref, or None when the bot cannot see it (or it is gone)."""
        ...

    async def is_private(self, channel: ChannelRef) -> bool:
        """Whether a channel is private (or a DM): its content must not be copied out."""
        ...

    async def react(self, message: MessageRef, emoji: str) -> None:
        """Add the bot's reaction `emoji` to `message`."""
        ...

    async def permalink(self, message: MessageRef) -> str:
        """A link a person can click to open `message`."""
        ...

    def parse_link(self, link: str) -> MessageRef | None:
        """The message a permalink of this platform points at, or None if it is not one."""
        ...

    async def is_staff(self, user: UserRef) -> bool:
        """Whether `user` belongs to the configured staff."""
        ...

    async def find_sent(
        self, where: ChannelRef | UserRef, post: Post, since: datetime
    ) -> MessageRef | None:
        """The bot's own message sent to `where` after `since` as `post` (same `Post.key`).

        None when there is none or the platform cannot tell; the outbox asks before
        sending again something a crash or a timeout may have sent already.
        """
        ...

    def history(self, channel: ChannelRef, after: datetime | None) -> AsyncIterator[Message]:
        """Messages in `channel` posted after `after`, oldest first (bounded backfill)."""
        ...
