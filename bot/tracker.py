"""The question lifecycle: open -> answered | escalated | snoozed | dismissed -> resolved.

The tracker turns inbound facts (a post, an edit, a reaction) and the passing of time
(the sweep) into stored state changes and domain events. Every change is written in
the same transaction as the fact that caused it, so nothing tracked lives only in memory.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from bot.core.events import (
    QuestionAnswered,
    QuestionBreached,
    QuestionDismissed,
    QuestionEvent,
    QuestionOpened,
    QuestionReopened,
    QuestionResolved,
    QuestionSnoozed,
    QuestionWarned,
)
from bot.core.model import (
    Message,
    MessageRef,
    Question,
    QuestionState,
    ResponderRole,
    Stage,
    UserRef,
)
from bot.detect import detect_question
from bot.hours import Calendar
from bot.storage.repos import NewQuestion, Store
from config.settings import ChannelConfig, Settings

log = logging.getLogger(__name__)

StaffCheck = Callable[[UserRef], Awaitable[bool]]

WAITING_STATES = (QuestionState.OPEN, QuestionState.SNOOZED)


@dataclass(frozen=True, slots=True)
class Response:
    """A first response candidate: who answered, when, and how."""

    user: UserRef
    at: datetime
    kind: str


class Tracker:
    """Applies the lifecycle rules; callers hold no state, the store holds all of it."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        is_staff: StaffCheck,
        calendars: dict[str, Calendar] | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.is_staff = is_staff
        self.calendars = calendars if calendars is not None else settings.build_calendars()
        tracking = settings.tracking
        self._ack = frozenset(e.strip(":") for e in tracking.ack_reactions)
        self._resolve = frozenset(e.strip(":") for e in tracking.resolve_reactions)

    # --- inbound facts -------------------------------------------------------

    async def message_posted(self, message: Message) -> list[QuestionEvent]:
        """A new message: it may open a question, answer one, or both."""
        config = self.settings.channel(message.ref.platform, message.config_channel)
        if config is None:
            log.debug("ignoring message in unwatched channel %s", message.config_channel)
            return []
        if message.author.is_bot:
            return []
        async with self.store.transaction():
            root = await self._root_of(message)
            if not await self.store.add_message(message, root):
                return []  # a redelivery: it was handled the first time
            events: list[QuestionEvent] = []
            if root is None:
                answered, replying = await self._mentions_answer(message, config)
                events += answered
                # A post addressed to someone who just asked is part of their
                # conversation, not a new request, even in an every-post channel.
                if not replying:
                    events += await self._maybe_open(message, config, message.posted_at)
            else:
                question = await self.store.question_by_ref(root)
                if question is not None:
                    events += await self._first_response(
                        question, Response(message.author, message.posted_at, "reply")
                    )
            return events

    async def message_edited(self, message: Message, edited_at: datetime) -> list[QuestionEvent]:
        """An edit can turn a top-level post into a question, asked at the time of the edit."""
        config = self.settings.channel(message.ref.platform, message.config_channel)
        if config is None or message.author.is_bot:
            return []
        async with self.store.transaction():
            question = await self.store.question_by_ref(message.ref)
            if question is not None:
                verdict = detect_question(message.text, mode=config.mode)
                await self.store.update_question(
                    question.id, text=message.text, score=verdict.score, reasons=verdict.reasons
                )
                return []
            root = await self._root_of(message)
            await self.store.add_message(message, root)
            stored = await self.store.get_message(message.ref)
            if root is not None or (stored is not None and stored.deleted):
                return []
            return await self._maybe_open(message, config, edited_at)

    async def message_deleted(self, ref: MessageRef, at: datetime) -> list[QuestionEvent]:
        """A deleted question is dismissed: nobody can answer it, so it is never a breach."""
        async with self.store.transaction():
            await self.store.mark_message_deleted(ref)
            question = await self.store.question_by_ref(ref)
            if question is None or question.state == QuestionState.DISMISSED:
                return []
            updated = await self.store.update_question(
                question.id, state=QuestionState.DISMISSED, due_at=None
            )
            await self.store.log(question.id, at, "dismissed", None, "message deleted")
            return [QuestionDismissed(updated, at)]

    async def reaction(
        self, ref: MessageRef, user: UserRef, emoji: str, at: datetime, *, added: bool
    ) -> list[QuestionEvent]:
        """Acknowledgement reactions by staff respond; resolve reactions resolve."""
        emoji = emoji.strip(":")
        if user.is_bot or (emoji not in self._ack and emoji not in self._resolve):
            return []
        async with self.store.transaction():
            question = await self.store.question_by_ref(ref)
            on_question = question is not None
            if question is None:
                # A resolve reaction on an answer in the thread resolves the question too.
                stored = await self.store.get_message(ref)
                if stored is None or stored.root is None:
                    return []
                question = await self.store.question_by_ref(stored.root)
                if question is None:
                    return []
            if emoji in self._resolve:
                if added:
                    return await self._resolve_by(question, user, at)
                return await self._unresolve(question, user, at)
            if added and on_question and user.user != question.asker and await self.is_staff(user):
                return await self._first_response(question, Response(user, at, "reaction"))
            return []

    # --- staff actions (commands) -----------------------------------------------

    async def resolve(self, ref: MessageRef, by: UserRef, at: datetime) -> list[QuestionEvent]:
        """Staff mark a question resolved."""
        async with self.store.transaction():
            question = await self.store.question_by_ref(ref)
            return [] if question is None else await self._resolve_by(question, by, at, staff=True)

    async def snooze(
        self, ref: MessageRef, until: datetime, by: UserRef, at: datetime
    ) -> list[QuestionEvent]:
        """Silence a waiting question's warnings until `until`."""
        async with self.store.transaction():
            question = await self.store.question_by_ref(ref)
            if question is None or question.state not in WAITING_STATES:
                return []
            updated = await self.store.update_question(
                question.id, state=QuestionState.SNOOZED, snoozed_until=until, due_at=until
            )
            await self.store.log(question.id, at, "snoozed", by.user, until.isoformat())
            return [QuestionSnoozed(updated, at)]

    # --- time -----------------------------------------------------------------

    async def sweep(self, now: datetime, limit: int = 500) -> list[QuestionEvent]:
        """Act on every question whose next deadline has come; oldest deadline first."""
        events: list[QuestionEvent] = []
        while True:
            async with self.store.transaction():
                due = await self.store.due(now, limit)
                for question in due:
                    events += await self._advance(question, now)
            if len(due) < limit:
                return events

    async def _advance(self, question: Question, now: datetime) -> list[QuestionEvent]:
        events: list[QuestionEvent] = []
        if question.state == QuestionState.SNOOZED:
            if question.snoozed_until and question.snoozed_until > now:
                await self.store.update_question(question.id, due_at=question.snoozed_until)
                return []
            question = await self.store.update_question(
                question.id, state=QuestionState.OPEN, snoozed_until=None
            )
            await self.store.log(question.id, now, "snooze ended")
            events.append(QuestionReopened(question, now))
        if not question.is_waiting:
            await self.store.update_question(question.id, due_at=None)
            return events
        if now >= question.breach_at and question.stage != Stage.BREACHED:
            # After downtime both deadlines may have passed: a warning then is just noise.
            question = await self.store.update_question(
                question.id, stage=Stage.BREACHED, breached=1, due_at=None
            )
            await self.store.log(question.id, now, "breached")
            events.append(QuestionBreached(question, now))
        elif now >= question.warn_at and question.stage == Stage.WAITING:
            question = await self.store.update_question(
                question.id, stage=Stage.WARNED, due_at=question.breach_at
            )
            await self.store.log(question.id, now, "warned")
            events.append(QuestionWarned(question, now))
        else:
            await self.store.update_question(question.id, due_at=_next_due(question))
        return events

    # --- rules ----------------------------------------------------------------

    async def _root_of(self, message: Message) -> MessageRef | None:
        """The message a post hangs from, following Discord reply chains to their start."""
        root = message.thread_root
        if root is None and message.reply_to is not None:
            parent = await self.store.get_message(message.reply_to)
            root = parent.root if parent is not None and parent.root else message.reply_to
        return None if root == message.ref else root

    async def _maybe_open(
        self, message: Message, config: ChannelConfig, asked_at: datetime
    ) -> list[QuestionEvent]:
        # Every forum post is a request, whatever the channel's mode says.
        mode = "every-post" if message.is_thread_starter else config.mode
        verdict = detect_question(
            message.text, mode=mode, threshold=self.settings.tracking.detection_threshold
        )
        if not verdict.is_question:
            return []
        calendar = self.calendars[config.calendar]
        warn_at = calendar.deadline(asked_at, config.target * config.warn_at)
        breach_at = calendar.deadline(asked_at, config.target)
        question = await self.store.insert_question(
            NewQuestion(
                ref=message.ref,
                watched_channel=message.config_channel,
                asker=message.author.user,
                asker_name=message.author.name,
                text=message.text,
                score=verdict.score,
                reasons=verdict.reasons,
                asked_at=asked_at,
                target_seconds=int(config.target.total_seconds()),
                calendar=config.calendar,
                warn_at=warn_at,
                breach_at=breach_at,
            )
        )
        if question is None:
            return []
        await self.store.log(
            question.id, asked_at, "opened", message.author.user, f"score {verdict.score:.2f}"
        )
        events: list[QuestionEvent] = [QuestionOpened(question, asked_at)]
        # Replies can arrive before their parent (retries, backfill); they count.
        early = await self.store.first_reply(message.ref, asked_at, message.author.user)
        if early is not None:
            responder = UserRef(message.ref.platform, message.ref.space, early.author)
            events += await self._first_response(
                question, Response(responder, early.posted_at, "reply")
            )
        return events

    async def _mentions_answer(
        self, message: Message, config: ChannelConfig
    ) -> tuple[list[QuestionEvent], bool]:
        """An in-channel message mentioning a recent asker counts as a response to them.

        Returns the responses recorded, and whether the message addressed a recent asker
        at all (answered or not), which makes it a reply rather than a new question.
        """
        window = config.mention_window or self.settings.tracking.mention_window
        events: list[QuestionEvent] = []
        replying = False
        for mentioned in dict.fromkeys(message.mentions):
            if mentioned == message.author.user:
                continue
            recent = await self.store.asked_by(
                message.ref.platform,
                message.ref.space,
                message.config_channel,
                mentioned,
                message.posted_at - window,
                message.posted_at,
            )
            replying = replying or bool(recent)
            for question in recent:
                events += await self._first_response(
                    question, Response(message.author, message.posted_at, "mention")
                )
        return events, replying

    async def _first_response(self, question: Question, response: Response) -> list[QuestionEvent]:
        if (
            question.first_response_at is not None
            or response.user.user == question.asker
            or response.user.is_bot
            or question.state == QuestionState.DISMISSED
        ):
            return []
        role = (
            ResponderRole.STAFF if await self.is_staff(response.user) else ResponderRole.COMMUNITY
        )
        at = max(response.at, question.asked_at)
        calendar = self.calendars.get(question.calendar) or Calendar.always()
        business = calendar.business_elapsed(question.asked_at, at)
        state = QuestionState.ANSWERED if question.state in WAITING_STATES else question.state
        updated = await self.store.update_question(
            question.id,
            state=state,
            first_response_at=at,
            first_responder=response.user.user,
            responder_role=role.value,
            response_kind=response.kind,
            ttfr_seconds=(at - question.asked_at).total_seconds(),
            ttfr_business_seconds=business.total_seconds(),
            # Breached means "no response by the target", however late the sweep ran.
            breached=int(question.breached or at > question.breach_at),
            due_at=None,
            snoozed_until=None,
        )
        await self.store.log(
            question.id, at, "answered", response.user.user, f"{role.value} {response.kind}"
        )
        return [QuestionAnswered(updated, at)]

    async def _resolve_by(
        self, question: Question, user: UserRef, at: datetime, *, staff: bool = False
    ) -> list[QuestionEvent]:
        if question.state in (QuestionState.RESOLVED, QuestionState.DISMISSED):
            return []
        if not staff and user.user != question.asker and not await self.is_staff(user):
            return []
        unanswered_too_long = question.first_response_at is None and at > question.breach_at
        updated = await self.store.update_question(
            question.id,
            state=QuestionState.RESOLVED,
            resolved_at=at,
            resolved_by=user.user,
            breached=int(question.breached or unanswered_too_long),
            due_at=None,
        )
        await self.store.log(question.id, at, "resolved", user.user)
        return [QuestionResolved(updated, at)]

    async def _unresolve(
        self, question: Question, user: UserRef, at: datetime
    ) -> list[QuestionEvent]:
        """Taking back the resolving reaction reopens the question where it was."""
        if question.state != QuestionState.RESOLVED:
            return []
        if question.resolved_by != user.user:
            return []
        state = QuestionState.ANSWERED if question.first_response_at else QuestionState.OPEN
        reopened = await self.store.update_question(
            question.id, state=state, resolved_at=None, resolved_by=None
        )
        reopened = await self.store.update_question(question.id, due_at=_next_due(reopened))
        await self.store.log(question.id, at, "reopened", user.user)
        return [QuestionReopened(reopened, at)]


def _next_due(question: Question) -> datetime | None:
    """When the sweep must look at a question next, given its stage."""
    if question.state == QuestionState.SNOOZED:
        return question.snoozed_until
    if not question.is_waiting:
        return None
    if question.stage == Stage.WAITING:
        return min(question.warn_at, question.breach_at)
    if question.stage == Stage.WARNED:
        return question.breach_at
    return None
