"""Platform-neutral references and records the core reasons about.

Adapters build these from Slack or Discord payloads; nothing here knows either SDK.
Times are timezone-aware UTC datetimes.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, fields
from datetime import datetime
from enum import StrEnum
from typing import Any


@dataclass(frozen=True, slots=True)
class ChannelRef:
    """A channel (or thread, or forum post) on one platform, inside one space."""

    platform: str
    space: str
    channel: str


@dataclass(frozen=True, slots=True)
class UserRef:
    """A member of a space; `is_bot` covers bots and integrations, which never count."""

    platform: str
    space: str
    user: str
    name: str = ""
    is_bot: bool = False

    def label(self) -> str:
        """What a person reads: the display name when known, else the id."""
        return self.name or self.user


@dataclass(frozen=True, slots=True)
class MessageRef:
    """A message identified by platform ids; `channel` is where it physically lives."""

    platform: str
    space: str
    channel: str
    message: str

    @property
    def channel_ref(self) -> ChannelRef:
        """The channel holding this message."""
        return ChannelRef(self.platform, self.space, self.channel)

    def __reduce__(self) -> tuple[type[MessageRef], tuple[str, str, str, str]]:
        # Replay workers pickle hundreds of thousands of these: rebuilt from their
        # values, not by dataclasses' slotted-state path, which is several times slower.
        return MessageRef, (self.platform, self.space, self.channel, self.message)


@dataclass(frozen=True, slots=True)
class Message:
    """One posted message, already translated by an adapter.

    `thread_root` points at the message a thread, reply chain or forum post hangs from;
    `None` means a top-level post. `watched_channel` is the configured channel the
    message belongs to (the parent channel of a Discord thread or forum post); it
    defaults to the channel the message lives in. `is_thread_starter` marks the
    opening message of a forum post: every forum post is a request. `content_hidden`
    says the platform withheld the text (Discord without the message-content intent):
    an empty text then means "unknown", not "nothing was said".
    """

    ref: MessageRef
    author: UserRef
    text: str
    posted_at: datetime
    thread_root: MessageRef | None = None
    reply_to: MessageRef | None = None
    mentions: tuple[str, ...] = ()
    watched_channel: str = ""
    is_thread_starter: bool = False
    content_hidden: bool = False

    @property
    def config_channel(self) -> str:
        """The channel id whose configuration applies to this message."""
        return self.watched_channel or self.ref.channel


class QuestionState(StrEnum):
    """Where a question is in its lifecycle (see DESIGN.md)."""

    OPEN = "open"
    ANSWERED = "answered"
    ESCALATED = "escalated"
    SNOOZED = "snoozed"
    DISMISSED = "dismissed"
    RESOLVED = "resolved"


class ResponderRole(StrEnum):
    """Who gave the first response."""

    STAFF = "staff"
    COMMUNITY = "community"


class Stage(StrEnum):
    """How far past its target an open question is; only ever moves forward."""

    WAITING = "waiting"
    WARNED = "warned"
    BREACHED = "breached"


@dataclass(frozen=True, slots=True)
class Question:
    """A tracked question as stored; one row per question message."""

    id: int
    ref: MessageRef
    watched_channel: str
    asker: str
    asker_name: str
    text: str
    score: float
    reasons: tuple[str, ...]
    asked_at: datetime
    state: QuestionState
    stage: Stage
    breached: bool
    target_seconds: int
    calendar: str
    warn_at: datetime
    breach_at: datetime
    due_at: datetime | None
    first_response_at: datetime | None = None
    first_responder: str | None = None
    first_response_id: str | None = None
    responder_role: ResponderRole | None = None
    response_kind: str | None = None
    ttfr_seconds: float | None = None
    ttfr_business_seconds: float | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    snoozed_until: datetime | None = None
    nudges: int = 0
    nudge_round: int = 0

    @property
    def is_waiting(self) -> bool:
        """True while nobody has responded and the question still needs someone."""
        return self.first_response_at is None and self.state in (
            QuestionState.OPEN,
            QuestionState.SNOOZED,
        )

    def next_due(self) -> datetime | None:
        """When the sweep must look at the question next, given its state and stage."""
        if self.state == QuestionState.SNOOZED:
            return self.snoozed_until
        if not self.is_waiting:
            return None
        if self.stage == Stage.WAITING:
            return min(self.warn_at, self.breach_at)
        if self.stage == Stage.WARNED:
            return self.breach_at
        return None

    def __reduce__(self) -> tuple[type[Question], tuple[Any, ...]]:
        # Replay workers send every question to the parent process: rebuilt from its
        # values in field order, as with MessageRef.
        return Question, _question_values(self)


class EscalationState(StrEnum):
    """Where an escalation is: with the team, seen by someone, or dealt with."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


@dataclass(frozen=True, slots=True)
class Escalation:
    """A member's message handed to a support or product channel."""

    id: int
    original: MessageRef
    question_id: int | None
    destination: str
    target: ChannelRef
    post: MessageRef | None
    author: str
    author_name: str
    excerpt: str
    private_source: bool
    reason: str
    state: EscalationState
    opened_at: datetime
    opened_by: str
    opened_by_name: str = ""
    posted_at: datetime | None = None
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    resolution: str | None = None
    original_deleted: bool = False


@dataclass(frozen=True, slots=True)
class PostAction:
    """A button on a post; pressing it comes back as an `ActionInvoked` with `value`."""

    id: str
    label: str
    value: str
    style: str = ""  # "primary", "danger" or "" (platforms map these)


@dataclass(frozen=True, slots=True)
class PostItem:
    """One line of a list in a post, optionally linked to a message."""

    text: str
    link: MessageRef | None = None


@dataclass(frozen=True, slots=True)
class Post:
    """Something the bot says, platform-neutral; adapters render it as Block Kit or embeds.

    `text` is always a complete plain-text rendering (Slack's notification fallback,
    the local transcript); `title`, `items` and `footer` are the structured form.
    `image` is an optional PNG attachment (the summary chart) named `image_name`.
    `fields` are labelled facts (author, channel, age); `actions` are buttons.
    """

    text: str
    title: str = ""
    items: tuple[PostItem, ...] = ()
    footer: str = ""
    more: int = 0
    image: bytes | None = None
    image_name: str = ""
    fields: tuple[tuple[str, str], ...] = ()
    actions: tuple[PostAction, ...] = ()
    # Who the post should ping: ("user", id) or ("group", id) — a Slack user group or a
    # Discord role. Adapters render the platform's mention syntax.
    notify: tuple[tuple[str, str], ...] = ()
    # Set by the outbox: what this send is. Adapters hand it to the platform where it can
    # be read back (Slack message metadata), so a send interrupted by a crash is found
    # instead of sent twice.
    key: str = ""


@dataclass(frozen=True, slots=True)
class Reply:
    """The answer to a command: private to its caller unless `public` is set."""

    text: str
    public: bool = False
    post: Post | None = None


# A question's values in field order (its pickled form).
_question_values = operator.attrgetter(*(f.name for f in fields(Question)))
