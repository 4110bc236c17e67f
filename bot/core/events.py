"""Frozen events: what adapters tell the core, and what the core tells handlers.

Inbound events come from an adapter (or the replay and demo drivers). Domain events
are emitted by the tracker when a question changes; handlers such as nudges and the
demo timeline subscribe to them through the router.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.core.model import ChannelRef, Message, MessageRef, Question, UserRef

# --- inbound ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Inbound:
    """Base of events arriving from a platform; `event_id` is the platform's delivery id."""

    event_id: str | None


@dataclass(frozen=True, slots=True)
class MessagePosted(Inbound):
    """A message appeared in a channel, thread or forum post."""

    message: Message


@dataclass(frozen=True, slots=True)
class MessageEdited(Inbound):
    """A message's text changed; `message` is the new version."""

    message: Message
    edited_at: datetime


@dataclass(frozen=True, slots=True)
class MessageDeleted(Inbound):
    """A message was deleted."""

    ref: MessageRef
    deleted_at: datetime


@dataclass(frozen=True, slots=True)
class ReactionAdded(Inbound):
    """Someone reacted to a message with `emoji` (a name without colons)."""

    ref: MessageRef
    user: UserRef
    emoji: str
    at: datetime


@dataclass(frozen=True, slots=True)
class ReactionRemoved(Inbound):
    """Someone took a reaction back."""

    ref: MessageRef
    user: UserRef
    emoji: str
    at: datetime


@dataclass(frozen=True, slots=True)
class CommandInvoked(Inbound):
    """`/frontline <text>` typed by `user` in `channel`."""

    text: str
    user: UserRef
    channel: ChannelRef
    at: datetime


@dataclass(frozen=True, slots=True)
class ShortcutInvoked(Inbound):
    """A message shortcut / context-menu command (`name`) used on `target`.

    Platforms that ask for details first (a Slack modal, a Discord select menu) pass
    what the user chose as `destination` and `reason`.
    """

    name: str
    target: MessageRef
    user: UserRef
    at: datetime
    destination: str = ""
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ActionInvoked(Inbound):
    """A button on one of the bot's posts was pressed (`note`: text typed in a follow-up form)."""

    action: str
    value: str
    user: UserRef
    at: datetime
    note: str = ""


# --- domain ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QuestionEvent:
    """Base of everything the tracker reports about one question."""

    question: Question
    at: datetime


@dataclass(frozen=True, slots=True)
class QuestionOpened(QuestionEvent):
    """A message was recognised as a question and is now tracked."""


@dataclass(frozen=True, slots=True)
class QuestionAnswered(QuestionEvent):
    """The question got its first response."""


@dataclass(frozen=True, slots=True)
class QuestionWarned(QuestionEvent):
    """The question has used the warning share of its target without a response."""


@dataclass(frozen=True, slots=True)
class QuestionBreached(QuestionEvent):
    """The question passed its response-time target without a response."""


@dataclass(frozen=True, slots=True)
class QuestionResolved(QuestionEvent):
    """The asker or staff marked the question resolved."""


@dataclass(frozen=True, slots=True)
class QuestionReopened(QuestionEvent):
    """A resolve was taken back, or a snooze ran out."""


@dataclass(frozen=True, slots=True)
class QuestionDismissed(QuestionEvent):
    """The question no longer needs an answer (deleted, or dismissed by staff)."""


@dataclass(frozen=True, slots=True)
class QuestionSnoozed(QuestionEvent):
    """Staff silenced the question's warnings until `question.snoozed_until`."""


@dataclass(frozen=True, slots=True)
class NudgeDue(QuestionEvent):
    """Staff should hear about this question now.

    `kind` is "at_risk" (the warning share of the target is used), "breach" (the target
    passed), "reminder" (still nothing, `round` reminders so far) or "second_tier" (the
    reminders went unheard: tell the leads).
    """

    kind: str
    round: int


@dataclass(frozen=True, slots=True)
class SweepFinished:
    """One sweep is over; `events` are what it decided, so handlers can batch them."""

    at: datetime
    events: tuple[QuestionEvent, ...]
