"""The question lifecycle: open -> answered | escalated | snoozed | dismissed -> resolved.

The tracker turns inbound facts (a post, an edit, a reaction) and the passing of time
(the sweep) into stored state changes and domain events. Its methods are synchronous
units of work over a `Repo`: the caller runs each inside one transaction on the
database thread (`Store.write`), so every change is stored together with the fact
that caused it and nothing tracked lives only in memory. Whatever needs the network
(is this user staff?) is resolved by the caller beforehand and passed in.

Platforms do not always deliver in order. A reply, an "@asker" answer, a reaction or a
delete can come before the message it concerns; each is kept (stored messages, or
bot/storage/early.py) and applied in time order when that message arrives, so the
outcome is the one an in-order delivery would have given.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from bot.core.events import (
    Inbound,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    NudgeDue,
    QuestionAnswered,
    QuestionBreached,
    QuestionDismissed,
    QuestionEvent,
    QuestionOpened,
    QuestionReopened,
    QuestionResolved,
    QuestionSnoozed,
    QuestionWarned,
    ReactionAdded,
    ReactionRemoved,
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
from bot.detect import Detection, detect_question
from bot.hours import Calendar
from bot.storage import early, names
from bot.storage.early import EarlyFact, FactKind
from bot.storage.repos import Added, NewQuestion, Repo, StoredMessage
from config.settings import ChannelConfig, Settings

log = logging.getLogger(__name__)

WAITING_STATES = (QuestionState.OPEN, QuestionState.SNOOZED)
# A post addressed to someone who asked here this recently is taken as part of their
# conversation (a reply), never as a new question.
CONVERSATION = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Response:
    """A first-response candidate: who answered, whether they are staff, when, and how.

    `message` is the id of the responding message (None for a reaction).
    """

    user: str
    is_staff: bool
    at: datetime
    kind: str
    message: str | None = None


class Tracker:
    """Applies the lifecycle rules; the store holds all state, the tracker none."""

    def __init__(self, settings: Settings, calendars: dict[str, Calendar] | None = None) -> None:
        self.settings = settings
        self.calendars = calendars if calendars is not None else settings.build_calendars()
        # Looked up for every message: a plain dict, not the settings model.
        self._channels: dict[tuple[str, str], ChannelConfig] = {
            (c.platform, c.id): c for c in settings.channels
        }
        tracking = settings.tracking
        self._ack = frozenset(e.strip(":") for e in tracking.ack_reactions)
        self._resolve = frozenset(e.strip(":") for e in tracking.resolve_reactions)
        # Messages are known to arrive in time order (a replay reads its export so):
        # nothing can have been stored after a question before it arrives, and the
        # lookups for early answers are skipped.
        self.in_order = False

    def watching(self, message: Message) -> ChannelConfig | None:
        """The channel configuration when `message` is in a watched channel and human."""
        config = self._channels.get((message.ref.platform, message.config_channel))
        if config is None:
            log.debug("ignoring message in unwatched channel %s", message.config_channel)
            return None
        return None if message.author.is_bot else config

    def cares_about(self, emoji: str) -> bool:
        """Whether a reaction with `emoji` can change anything."""
        emoji = emoji.strip(":")
        return emoji in self._ack or emoji in self._resolve

    def subject(self, event: Inbound) -> UserRef | Literal[False] | None:
        """Whose staff status `apply` needs: a user, None (nobody), or False (skip the event)."""
        match event:
            case MessagePosted(message=m) | MessageEdited(message=m):
                return m.author if self.watching(m) is not None else False
            case ReactionAdded() | ReactionRemoved():
                if event.user.is_bot or not self.cares_about(event.emoji):
                    return False
                return event.user
            case MessageDeleted():
                return None
        return False

    def apply(self, repo: Repo, event: Inbound, is_staff: bool) -> list[QuestionEvent]:
        """Apply one inbound event; `is_staff` is the status of `subject(event)`."""
        match event:
            case MessagePosted(message=m):
                return self.message_posted(repo, m, is_staff)
            case MessageEdited(message=m, edited_at=at):
                return self.message_edited(repo, m, at, is_staff)
            case MessageDeleted(ref=ref, deleted_at=at):
                return self.message_deleted(repo, ref, at)
            case ReactionAdded() | ReactionRemoved():
                added = isinstance(event, ReactionAdded)
                return self.reaction(
                    repo, event.ref, event.user, is_staff, event.emoji, event.at, added=added
                )
        return []

    # --- inbound facts -------------------------------------------------------

    def message_posted(
        self, repo: Repo, message: Message, author_is_staff: bool
    ) -> list[QuestionEvent]:
        """A new message: it may open a question, answer one, or both."""
        config = self.watching(message)
        if config is None:
            return []
        root = self._root_of(repo, message)
        added = repo.add_message(message, root, author_is_staff)
        if added is Added.KNOWN:
            return []  # a redelivery: it was handled the first time
        # Reactions and deletes that came before the message.
        facts = early.take(repo, message.ref) if added is Added.AWAITED else []
        if root is not None:
            # Only a question still waiting for its first response is read; most replies
            # come after the first one. An unknown parent may still arrive: the stored
            # reply counts then.
            question = repo.unanswered_question(root)
            events: list[QuestionEvent] = []
            if question is not None:
                response = Response(
                    message.author.user,
                    author_is_staff,
                    message.posted_at,
                    "reply",
                    message.ref.message,
                )
                events = self._first_response(repo, question, response)
            return self._catch_up(repo, message.ref, facts, events) if facts else events
        events, replying = self._mentions_answer(repo, message, config, author_is_staff)
        # A post addressed to someone who just asked is part of their conversation,
        # not a new request, even in an every-post channel.
        if not replying:
            return events + self._maybe_open(repo, message, config, message.posted_at, facts)
        return self._catch_up(repo, message.ref, facts, events) if facts else events

    def message_edited(
        self, repo: Repo, message: Message, edited_at: datetime, author_is_staff: bool
    ) -> list[QuestionEvent]:
        """An edit can turn a top-level post into a question, asked at the time of the edit."""
        config = self.watching(message)
        if config is None:
            return []
        question = repo.question_by_ref(message.ref)
        if question is not None:
            verdict = detect_question(message.text, mode=config.mode)
            repo.change(question, text=message.text, score=verdict.score, reasons=verdict.reasons)
            return []
        root = self._root_of(repo, message)
        events: list[QuestionEvent] = []
        later: list[EarlyFact] = []
        if repo.add_message(message, root, author_is_staff) is Added.AWAITED:
            # The edit is the first we hear of the message: what happened to it before
            # the edit happened to a message that asked nothing yet.
            facts = early.take(repo, message.ref)
            events = self._catch_up(repo, message.ref, [f for f in facts if f.at < edited_at])
            later = [f for f in facts if f.at >= edited_at]
        stored = repo.get_message(message.ref)
        if root is not None or (stored is not None and stored.deleted):
            return self._catch_up(repo, message.ref, later, events) if later else events
        return events + self._maybe_open(repo, message, config, edited_at, later)

    def message_deleted(self, repo: Repo, ref: MessageRef, at: datetime) -> list[QuestionEvent]:
        """A deleted question is dismissed: nobody can answer it, so it is never a breach."""
        if not repo.mark_message_deleted(ref):
            # Deleted before we saw it: the post may still arrive (a retry, a backfill).
            early.remember(repo, ref, EarlyFact("deleted", at))
            return []
        question = repo.question_by_ref(ref)
        if question is None or question.state == QuestionState.DISMISSED:
            return []
        updated = repo.change(question, state=QuestionState.DISMISSED, due_at=None)
        repo.log(question.id, at, "dismissed", None, "message deleted")
        return [QuestionDismissed(updated, at)]

    def reaction(
        self,
        repo: Repo,
        ref: MessageRef,
        user: UserRef,
        user_is_staff: bool,
        emoji: str,
        at: datetime,
        *,
        added: bool,
    ) -> list[QuestionEvent]:
        """Acknowledgement reactions by staff respond; resolve reactions resolve."""
        emoji = emoji.strip(":")
        if user.is_bot or not self.cares_about(emoji):
            return []
        question = repo.question_asked_by(ref)
        if question is not None:
            return self._react(repo, question, True, user.user, user_is_staff, emoji, at, added)
        resolving = emoji in self._resolve
        kind: FactKind = "reacted" if added else "unreacted"
        stored = repo.get_message(ref)
        if stored is None:
            # Before the message itself: kept until it arrives. A member's :eyes: counts
            # for nothing, on any message.
            if resolving or (added and user_is_staff):
                early.remember(repo, ref, EarlyFact(kind, at, user.user, user_is_staff, emoji))
            return []
        # A resolve reaction on an answer in the thread resolves the question too.
        if stored.root is None or not resolving:
            return []
        question = repo.question_asked_by(stored.root)
        if question is None:
            if repo.get_message(stored.root) is None:  # the question may still arrive
                fact = EarlyFact(kind, at, user.user, user_is_staff, emoji, on_reply=True)
                early.remember(repo, stored.root, fact)
            return []
        return self._react(repo, question, False, user.user, user_is_staff, emoji, at, added)

    def _react(
        self,
        repo: Repo,
        question: Question,
        on_question: bool,
        user: str,
        user_is_staff: bool,
        emoji: str,
        at: datetime,
        added: bool,
    ) -> list[QuestionEvent]:
        """A reaction on `question` (`on_question`) or on a reply in its thread."""
        if emoji in self._resolve:
            if not added:
                return self._unresolve(repo, question, user, at)
            if user == question.asker or user_is_staff:
                return self._resolve_by(repo, question, user, at)
            return []
        if added and on_question and user_is_staff and user != question.asker:
            return self._first_response(repo, question, Response(user, True, at, "reaction"))
        return []

    # --- staff actions (commands) -----------------------------------------------

    def resolve(
        self, repo: Repo, ref: MessageRef, by: UserRef, at: datetime
    ) -> list[QuestionEvent]:
        """Staff mark a question resolved (the caller checked they are staff)."""
        question = repo.question_asked_by(ref)
        return [] if question is None else self._resolve_by(repo, question, by.user, at)

    def snooze(
        self, repo: Repo, ref: MessageRef, until: datetime, by: UserRef, at: datetime
    ) -> list[QuestionEvent]:
        """Silence a waiting question's warnings until `until`."""
        question = repo.question_asked_by(ref)
        if question is None or question.state not in WAITING_STATES:
            return []
        updated = repo.change(
            question, state=QuestionState.SNOOZED, snoozed_until=until, due_at=until
        )
        repo.log(question.id, at, "snoozed", by.user, until.isoformat())
        return [QuestionSnoozed(updated, at)]

    # --- time -----------------------------------------------------------------

    def sweep(self, repo: Repo, now: datetime, limit: int = 500) -> list[QuestionEvent]:
        """Act on every question whose next deadline has come; oldest deadline first."""
        events: list[QuestionEvent] = []
        while True:
            due = repo.due(now, limit)
            for question in due:
                events += self._advance(repo, question, now)
            if len(due) < limit:
                return events

    def _advance(self, repo: Repo, question: Question, now: datetime) -> list[QuestionEvent]:
        """Move one due question on: end a snooze, warn, breach, or nudge again."""
        events: list[QuestionEvent] = []
        if question.state == QuestionState.SNOOZED:
            if question.snoozed_until and question.snoozed_until > now:
                repo.change(question, due_at=question.snoozed_until)
                return []
            question = repo.change(question, state=QuestionState.OPEN, snoozed_until=None)
            repo.log(question.id, now, "snooze ended")
            events.append(QuestionReopened(question, now))
        if not question.is_waiting:
            repo.change(question, due_at=None)
            return events
        config = self._channels.get((question.ref.platform, question.watched_channel))
        if now >= question.breach_at and question.stage != Stage.BREACHED:
            # After downtime both deadlines may have passed: a warning then is just noise.
            question = repo.change(question, stage=Stage.BREACHED, breached=True, due_at=None)
            repo.log(question.id, now, "breached")
            events.append(QuestionBreached(question, now))
            events += self._nudge(repo, question, config, now)
        elif now >= question.warn_at and question.stage == Stage.WAITING:
            question = repo.change(question, stage=Stage.WARNED, due_at=question.breach_at)
            repo.log(question.id, now, "warned")
            events.append(QuestionWarned(question, now))
            # A heads-up at night is noise: the breach nudge will come when staff are in.
            if config is not None and config.nudge_at_risk and not self._quiet(config, now):
                events.append(NudgeDue(question, now, "at_risk", 0))
        elif question.stage == Stage.BREACHED:
            events += self._nudge(repo, question, config, now)
        else:
            repo.change(question, due_at=question.next_due())
        return events

    def _quiet(self, config: ChannelConfig, now: datetime) -> bool:
        """Outside the channel's hours, when staff should not be pinged."""
        calendar = self.calendars.get(config.calendar)
        return not config.nudge_outside_hours and calendar is not None and not calendar.is_open(now)

    def _nudge(
        self, repo: Repo, question: Question, config: ChannelConfig | None, now: datetime
    ) -> list[QuestionEvent]:
        """The breach nudge, then its reminders, then the second tier: one per due time."""
        if config is None:
            repo.change(question, due_at=None)
            return []
        if self._quiet(config, now):
            repo.change(question, due_at=self.calendars[config.calendar].next_open(now))
            return []
        done, repeats = question.nudge_round, config.max_repeats
        if done == 0:
            kind = "breach"
        elif done <= repeats and config.repeat_every is not None:
            kind = "reminder"
        elif done == repeats + 1 and config.second_tier and config.repeat_every is not None:
            kind = "second_tier"
        else:
            repo.change(question, due_at=None)
            return []
        done += 1
        more = config.repeat_every is not None and (
            done <= repeats or (done == repeats + 1 and bool(config.second_tier))
        )
        question = repo.change(
            question,
            nudge_round=done,
            due_at=now + config.repeat_every if more and config.repeat_every else None,
        )
        repo.log(question.id, now, "nudge due", None, kind)
        return [NudgeDue(question, now, kind, done)]

    # --- rules ----------------------------------------------------------------

    def _root_of(self, repo: Repo, message: Message) -> MessageRef | None:
        """The message a post hangs from, following Discord reply chains to their start."""
        root = message.thread_root
        if root is None and message.reply_to is not None:
            parent = repo.get_message(message.reply_to)
            root = parent.root if parent is not None and parent.root else message.reply_to
        return None if root == message.ref else root

    def _maybe_open(
        self,
        repo: Repo,
        message: Message,
        config: ChannelConfig,
        asked_at: datetime,
        facts: Sequence[EarlyFact] = (),
    ) -> list[QuestionEvent]:
        """Open a question if `message` asks one; then apply `facts` (what came before it)."""
        # Every forum post is a request, whatever the channel's mode says.
        mode = "every-post" if message.is_thread_starter else config.mode
        if message.content_hidden and not message.text.strip() and mode == "every-post":
            # Every post here is a request; not being shown its words changes nothing.
            verdict = Detection(True, 0.8, ("every-post channel, text not visible to the bot",))
        else:
            verdict = detect_question(
                message.text, mode=mode, threshold=self.settings.tracking.detection_threshold
            )
        if not verdict.is_question:
            return self._catch_up(repo, message.ref, facts) if facts else []
        calendar = self.calendars[config.calendar]
        # A forum post is a thread of its own, never a follow-up.
        earlier = None if message.is_thread_starter else self._carried_on(repo, message, asked_at)
        question = repo.insert_question(
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
                warn_at=calendar.deadline(asked_at, config.target * config.warn_at),
                breach_at=calendar.deadline(asked_at, config.target),
                follows=earlier.id if earlier else None,
            )
        )
        if question is None:
            return self._catch_up(repo, message.ref, facts) if facts else []
        events: list[QuestionEvent] = []
        if earlier is None:
            repo.log(question.id, asked_at, "opened", question.asker, f"score {verdict.score:.2f}")
            events.append(QuestionOpened(question, asked_at))
        else:
            of = f"of question {earlier.id}"
            repo.log(question.id, asked_at, "follow-up", question.asker, of)
            repo.log(earlier.id, asked_at, "asked again", question.asker, question.ref.message)
        # Replies and "@asker" answers can arrive before the question (retries, backfill);
        # they count, in time order with the reactions and deletes that came early too.
        window = config.mention_window or self.settings.tracking.mention_window
        stored = (
            early.NOTHING_STORED
            if self.in_order
            else early.stored_before(
                repo,
                question.ref,
                question.watched_channel,
                question.asker,
                asked_at,
                asked_at + max(window, CONVERSATION),
            )
        )
        if stored.mentions:
            events += self._in_conversation(repo, question, stored.mentions)
        response = self._stored_response(repo, question, window, stored)
        if facts:
            return self._catch_up(repo, message.ref, facts, events, response)
        if response is not None:
            events += self._first_response(repo, question, response)
        return events

    def _carried_on(self, repo: Repo, message: Message, asked_at: datetime) -> Question | None:
        """The asker's earlier question here that still waits, if `message` carries it on.

        Someone who asks again ("anyone? still stuck on the key rotation") or asks on
        ("what could cause that?") within `tracking.follow_up_window` of their waiting
        question has one problem: one question to answer, count and nudge. Only the
        asker's own top-level posts in the same channel; the earliest waiting question.
        """
        window = self.settings.tracking.follow_up_window
        if not window:
            return None
        ref = message.ref
        _, waiting = repo.mention_targets(
            ref.platform,
            ref.space,
            message.config_channel,
            message.author.user,
            asked_at - window,
            asked_at - window,
            asked_at,
        )
        return next(
            (q for q in waiting if q.state != QuestionState.DISMISSED and q.ref != ref), None
        )

    def _in_conversation(
        self, repo: Repo, question: Question, mentions: Sequence[StoredMessage]
    ) -> list[QuestionEvent]:
        """Dismiss the questions opened by posts addressed to the asker before this arrived.

        In order, a post addressed to someone who asked here within `CONVERSATION` is
        part of their conversation and never a question of its own (`message_posted`);
        one that came first was taken for a new request. It is dismissed rather than
        removed: it may have been nudged already, and its history says what happened.
        """
        events: list[QuestionEvent] = []
        for mention in mentions:
            opened = repo.question_by_ref(mention.ref)
            # Only one opened by the post itself: an edit opens a question regardless.
            if (
                opened is None
                or opened.state == QuestionState.DISMISSED
                or opened.asked_at != mention.posted_at
            ):
                continue
            dismissed = repo.change(opened, state=QuestionState.DISMISSED, due_at=None)
            at = max(question.asked_at, mention.posted_at)
            repo.log(opened.id, at, "dismissed", None, f"addressed to {question.asker}, who asked")
            events.append(QuestionDismissed(dismissed, at))
        return events

    def _stored_response(
        self, repo: Repo, question: Question, window: timedelta, stored: early.StoredBefore
    ) -> Response | None:
        """The earliest answer to a question that opens now which was stored before it."""
        reply = stored.reply
        found = (
            None
            if reply is None
            else Response(
                reply.author, reply.author_staff, reply.posted_at, "reply", reply.ref.message
            )
        )
        # As `_mentions_answer` would have counted them, had they come after the question.
        for mention in stored.mentions:
            if mention.posted_at > question.asked_at + window or (
                found is not None and mention.posted_at >= found.at
            ):
                break
            if not self._helped_by(repo, mention.author, question, window, mention.posted_at):
                return Response(
                    mention.author,
                    mention.author_staff,
                    mention.posted_at,
                    "mention",
                    mention.ref.message,
                )
        return found

    def _catch_up(
        self,
        repo: Repo,
        ref: MessageRef,
        facts: Sequence[EarlyFact],
        events: Sequence[QuestionEvent] = (),
        response: Response | None = None,
    ) -> list[QuestionEvent]:
        """Apply what happened to the message `ref` before it arrived, in time order.

        `events` are what the message itself caused; `response` is an answer to its
        question that was stored before it. A question deleted before we saw it is
        stored as an in-order run would leave it (dismissed), but nobody hears of it.
        """
        timeline: list[Response | EarlyFact] = [] if response is None else [response]
        timeline += facts
        timeline.sort(key=lambda step: step.at)  # stable: an answer first among equals
        out = list(events)
        for step in timeline:
            if isinstance(step, Response):
                question = repo.unanswered_question(ref)
                if question is not None:
                    out += self._first_response(repo, question, step)
            elif step.kind == "deleted":
                out += self.message_deleted(repo, ref, step.at)
            elif step.on_reply:
                question = repo.question_by_ref(ref)
                if question is not None:
                    out += self._react(
                        repo,
                        question,
                        False,
                        step.actor,
                        step.actor_staff,
                        step.emoji,
                        step.at,
                        step.kind == "reacted",
                    )
            else:
                user = UserRef(ref.platform, ref.space, step.actor)
                out += self.reaction(
                    repo,
                    ref,
                    user,
                    step.actor_staff,
                    step.emoji,
                    step.at,
                    added=step.kind == "reacted",
                )
        gone = {
            e.question.id for e in out if isinstance(e, QuestionDismissed) and e.question.ref == ref
        }
        return [e for e in out if e.question.id not in gone] if gone else out

    def _mentions_answer(
        self, repo: Repo, message: Message, config: ChannelConfig, author_is_staff: bool
    ) -> tuple[list[QuestionEvent], bool]:
        """An in-channel message addressing a recent asker counts as a response to them.

        Addressing is a mention, or the asker's display name in plain text ("bob, try
        this", "thanks bob": `_named_askers`). Returns the responses recorded
        (questions asked within the mention window), and whether the message addresses
        someone who asked here within the last day (by name: someone still waiting),
        which makes it part of their conversation rather than a new question. A message
        from someone the asker has been helping answers nothing (`_helped_by`); the
        asker mentioning someone may show that they answered (`_acknowledged`).
        """
        window = config.mention_window or self.settings.tracking.mention_window
        named = self._named_askers(repo, message, window)
        if not message.mentions and not named:
            return [], False
        events: list[QuestionEvent] = []
        replying = False
        mentioned = [m for m in dict.fromkeys(message.mentions) if m != message.author.user]
        # Everything is looked up before anything is recorded: what this message answers
        # must not change how the rest of it is read.
        answered: list[tuple[Question, Response]] = []
        targets = [(user, "mention", "") for user in mentioned]
        targets += [(user, "name", form) for user, form in named.items()]
        for user, kind, form in targets:
            asked, waiting = repo.mention_targets(
                message.ref.platform,
                message.ref.space,
                message.config_channel,
                user,
                message.posted_at - max(window, CONVERSATION),
                message.posted_at - window,
                message.posted_at,
            )
            if form:
                # Their name as a word of their own question ("how do I configure
                # redwood routes?" by Redwood) is that word again, not an address.
                waiting = [q for q in waiting if not names.used_in(q.text, form)]
                asked = bool(waiting)
            replying = replying or asked
            response = Response(
                message.author.user, author_is_staff, message.posted_at, kind, message.ref.message
            )
            answered += [
                (question, response)
                for question in waiting
                if not self._helped_by(
                    repo, message.author.user, question, window, message.posted_at
                )
            ]
        if mentioned and self.settings.tracking.asker_acknowledges:
            answered = self._acknowledged(repo, message, mentioned, window) + answered
        for question, response in answered:
            events += self._first_response(repo, question, response)
        return events, replying

    def _named_askers(self, repo: Repo, message: Message, window: timedelta) -> dict[str, str]:
        """Who asked here within `window`, still waits, and is named in the message's text.

        Each with the form of their name the text uses. Slack and Discord members write
        "bob, try…" or "bob try…" as often as "@bob"; on IRC a name is all there is.
        Only distinctive names count, where an address stands (bot/storage/names.py): a
        post saying "help" or "max" addresses nobody called Help or Max. Mentioned users
        are left to the mention rule; the author naming themselves is no answer. Only in
        order: the text of a post is not stored, so a post naming someone before their
        question arrives answers nothing.
        """
        if not message.text:
            return {}
        ref = message.ref
        askers = names.waiting_askers(
            repo, ref.platform, ref.space, message.config_channel, message.posted_at, window
        )
        if not askers:
            return {}
        author, mentions = message.author.user, message.mentions
        others = [(user, name) for user, name in askers if user != author and user not in mentions]
        return names.names_in(message.text, others)

    def _acknowledged(
        self, repo: Repo, message: Message, mentioned: list[str], window: timedelta
    ) -> list[tuple[Question, Response]]:
        """The asker turning to someone who spoke since their question: that was an answer.

        Without threads, answers are often not addressed ("try restarting it"); the
        asker's reply to its author ("@sam that worked", "@sam which file?") shows it was
        one. The first response is that person's first post here since the question,
        not counting posts that were questions of their own or addressed to someone
        else (a mention: that was for them), if both the post and the asker's reply
        came within the mention window. Someone whose question the asker answered is
        being helped by the asker, not helping them.
        """
        _, waiting = repo.mention_targets(
            message.ref.platform,
            message.ref.space,
            message.config_channel,
            message.author.user,
            message.posted_at - window,
            message.posted_at - window,
            message.posted_at,
        )
        found: list[tuple[Question, Response]] = []
        for question in waiting:
            if question.ref == message.ref:
                continue
            first = repo.first_post_between(
                question.ref,
                message.ref,
                message.config_channel,
                [
                    u
                    for u in mentioned
                    if not self._helped_by(repo, u, question, window, message.posted_at)
                ],
                question.asked_at,
                question.asked_at + window,
            )
            if first is not None:
                found.append(
                    (
                        question,
                        Response(
                            first.author,
                            first.author_staff,
                            first.posted_at,
                            "acknowledged",
                            first.ref.message,
                        ),
                    )
                )
        return found

    def _helped_by(
        self, repo: Repo, user: str, question: Question, window: timedelta, now: datetime
    ) -> bool:
        """Whether the asker of `question` has answered a question `user` asked around it.

        Then what passes between them is `user`'s conversation ("@ana thanks, that
        worked"), not an answer to the asker's own question.
        """
        return any(
            asked.first_responder == question.asker
            for asked in repo.asked_by(
                question.ref.platform,
                question.ref.space,
                question.watched_channel,
                user,
                question.asked_at - window,
                now,
            )
        )

    def _first_response(
        self, repo: Repo, question: Question, response: Response
    ) -> list[QuestionEvent]:
        if question.first_response_at is not None or response.user == question.asker:
            return []
        if question.state == QuestionState.DISMISSED:
            # A follow-up's response answers the question it carries on.
            original = repo.carried_on(question)
            return self._first_response(repo, original, response) if original else []
        role = ResponderRole.STAFF if response.is_staff else ResponderRole.COMMUNITY
        at = max(response.at, question.asked_at)
        calendar = self.calendars.get(question.calendar) or Calendar.always()
        business = calendar.business_elapsed(question.asked_at, at)
        state = QuestionState.ANSWERED if question.state in WAITING_STATES else question.state
        updated = repo.change(
            question,
            state=state,
            first_response_at=at,
            first_responder=response.user,
            first_response_id=response.message,
            responder_role=role,
            response_kind=response.kind,
            ttfr_seconds=(at - question.asked_at).total_seconds(),
            ttfr_business_seconds=business.total_seconds(),
            # Breached means "no response by the target": the response's own time decides,
            # however late the sweep ran or the response was delivered.
            breached=at > question.breach_at,
            due_at=None,
            snoozed_until=None,
        )
        repo.log(question.id, at, "answered", response.user, f"{role.value} {response.kind}")
        return [QuestionAnswered(updated, at)]

    def _resolve_by(
        self, repo: Repo, question: Question, user: str, at: datetime
    ) -> list[QuestionEvent]:
        if question.state in (QuestionState.RESOLVED, QuestionState.DISMISSED):
            return []
        unanswered_too_long = question.first_response_at is None and at > question.breach_at
        updated = repo.change(
            question,
            state=QuestionState.RESOLVED,
            resolved_at=at,
            resolved_by=user,
            breached=question.breached or unanswered_too_long,
            due_at=None,
        )
        repo.log(question.id, at, "resolved", user)
        return [QuestionResolved(updated, at)]

    def _unresolve(
        self, repo: Repo, question: Question, user: str, at: datetime
    ) -> list[QuestionEvent]:
        """Taking back the resolving reaction reopens the question where it was."""
        if question.state != QuestionState.RESOLVED or question.resolved_by != user:
            return []
        state = QuestionState.ANSWERED if question.first_response_at else QuestionState.OPEN
        reopened = repo.change(question, state=state, resolved_at=None, resolved_by=None)
        reopened = repo.change(reopened, due_at=reopened.next_due())
        repo.log(question.id, at, "reopened", user)
        return [QuestionReopened(reopened, at)]
