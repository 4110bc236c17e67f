"""A seeded synthetic community: members ask, others answer, some questions are left behind.

Used by `frontline demo`, the tests and the benchmarks. The same seed always gives the
same day. Times follow the community's calendar: busy in working hours, a few posts
in the evening, so business-hours targets matter.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core.events import (
    Inbound,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    ReactionAdded,
)
from bot.core.model import Message, MessageRef, UserRef

MEMBERS = (
    "maria",
    "tomasz",
    "aiko",
    "sven",
    "leila",
    "dmitri",
    "yusuf",
    "grace",
    "pablo",
    "nia",
    "oskar",
    "mei",
    "ravi",
    "fatima",
    "jonas",
    "elena",
)
STAFF = ("ana", "ben", "chidi")

_TOOLS = (
    "the CLI",
    "the Python SDK",
    "the webhook relay",
    "the Helm chart",
    "the dashboard",
    "the Terraform provider",
    "the REST API",
    "the Go client",
)
_THINGS = (
    "API keys",
    "retries",
    "the cache",
    "rate limits",
    "SSO login",
    "a custom domain",
    "batch exports",
    "environment variables",
    "TLS certificates",
    "webhooks",
)
_ERRORS = (
    "ImportError: cannot import name 'Client'",
    "ConnectionRefusedError: [Errno 111]",
    "401 Unauthorized",
    "KeyError: 'region'",
    "TimeoutError",
    "x509: certificate signed by unknown authority",
)
_VERBS = ("configure", "rotate", "disable", "migrate", "debug", "set up", "reset")

QUESTIONS = (
    "How do I {verb} {thing} in {tool}?",
    "Is there a way to {verb} {thing} without restarting everything?",
    "Why does {tool} fail with {error} when I {verb} {thing}?",
    "Anyone else seeing {error} after upgrading {tool}?",
    "What's the recommended way to {verb} {thing}?",
    "getting {error} when I run `deploy --prod`",
    "anyone know how to {verb} {thing} with {tool}",
    "I'm trying to {verb} {thing} but it keeps timing out",
    "can someone help me with {thing}, {tool} keeps crashing",
    'Traceback (most recent call last):\n  File "app.py", line 12, in <module>\n'
    "    client.connect()\n{error}",
    "does {tool} support {thing} yet",
    "Hi all! New here. Where can I find docs on {thing}?",
)
SUPPORT_REQUESTS = (
    "Our {thing} stopped working this morning, {tool} returns {error}",
    "Please help: billing page shows the wrong plan for our team",
    "We need {thing} enabled for our workspace",
    "{tool} is down for us since 10 minutes",
)
CHATTER = (
    "good morning everyone",
    "thanks!",
    "lol",
    "that release looks great :tada:",
    "https://example.com/blog/whats-new",
    "nice work on the docs",
    "brb lunch",
    "+1",
    "Just shipped our integration with {tool}, so happy with it",
    "haha same",
    "gm",
    "We're using {thing} in production now, works well",
)
ANSWERS = (
    "Try `pip install -U sdk` — that fixed {error} for me",
    "You need to set {thing} in the config first, then restart {tool}",
    "Known issue, fixed in 2.3.1. Upgrading should do it",
    "Docs are here: https://example.com/docs/{slug}",
    "I had the same, it was a proxy in the way",
    "Can you share the full log? Usually it means the token expired",
)
FOLLOW_UPS = ("any ideas?", "still stuck on this", "bump", "more context: it worked yesterday")


@dataclass(frozen=True, slots=True)
class SimEvent:
    """An inbound event and when it happens."""

    at: datetime
    event: Inbound


class Community:
    """Generates a realistic mix of traffic for `days` days on the local platform."""

    def __init__(
        self,
        seed: int = 7,
        start: date = date(2026, 11, 24),
        days: int = 1,
        timezone: str = "Europe/Berlin",
        platform: str = "local",
        space: str = "demo",
        channels: Sequence[str] = ("help", "support", "general"),
    ) -> None:
        self.rng = random.Random(seed)
        self.start = start
        self.days = days
        self.tz = ZoneInfo(timezone)
        self.platform = platform
        self.space = space
        self.channels = tuple(channels)
        self._next_id = 0

    # --- building blocks -------------------------------------------------------

    def _fill(self, template: str) -> str:
        r = self.rng
        return template.format(
            verb=r.choice(_VERBS),
            thing=r.choice(_THINGS),
            tool=r.choice(_TOOLS),
            error=r.choice(_ERRORS),
            slug=r.choice(_THINGS).replace(" ", "-"),
        )

    def _user(self, name: str) -> UserRef:
        return UserRef(self.platform, self.space, name, name, is_bot=name == "deploybot")

    def _ref(self, channel: str) -> MessageRef:
        self._next_id += 1
        return MessageRef(self.platform, self.space, channel, f"m{self._next_id:06d}")

    def _message(
        self,
        at: datetime,
        channel: str,
        author: str,
        text: str,
        root: MessageRef | None = None,
        mentions: tuple[str, ...] = (),
    ) -> Message:
        return Message(
            self._ref(channel), self._user(author), text, at, thread_root=root, mentions=mentions
        )

    def _post(
        self,
        at: datetime,
        channel: str,
        author: str,
        text: str,
        root: MessageRef | None = None,
        mentions: tuple[str, ...] = (),
    ) -> SimEvent:
        return self._posted(self._message(at, channel, author, text, root, mentions))

    @staticmethod
    def _posted(message: Message) -> SimEvent:
        return SimEvent(message.posted_at, MessagePosted(f"ev-{message.ref.message}", message))

    def _delay(self, median_minutes: float) -> timedelta:
        minutes = self.rng.lognormvariate(0, 0.9) * median_minutes
        return timedelta(minutes=max(0.5, min(minutes, 600)))

    def _moment(self, day: date) -> datetime:
        """A posting time: mostly working hours, some early, some in the evening."""
        r = self.rng.random()
        if r < 0.8:
            hour = self.rng.uniform(8.5, 18.5)
        elif r < 0.9:
            hour = self.rng.uniform(6.5, 8.5)
        else:
            hour = self.rng.uniform(18.5, 22.5)
        local = datetime.combine(day, time(0), self.tz) + timedelta(hours=hour)
        return local.astimezone(ZoneInfo("UTC"))

    # --- the story ---------------------------------------------------------------

    def events(self) -> list[SimEvent]:
        """Every event of the simulated days, in time order."""
        out: list[SimEvent] = []
        for offset in range(self.days):
            out += self._day(self.start + timedelta(days=offset))
        out.sort(key=lambda e: e.at)
        return out

    def _day(self, day: date) -> Iterator[SimEvent]:
        r = self.rng
        weekend = day.weekday() >= 5
        asks = r.randint(4, 7) if weekend else r.randint(14, 20)
        for _ in range(asks):
            channel = r.choices(self.channels, weights=(6, 2, 2)[: len(self.channels)])[0]
            template = r.choice(SUPPORT_REQUESTS if channel == "support" else QUESTIONS)
            yield from self._question(self._moment(day), channel, self._fill(template))
        chat_channels = [c for c in self.channels if c != "support"] or list(self.channels)
        for _ in range(r.randint(8, 12) if not weekend else 3):
            channel = r.choice(chat_channels)
            yield self._post(
                self._moment(day), channel, r.choice(MEMBERS), self._fill(r.choice(CHATTER))
            )
        yield self._post(
            self._moment(day),
            self.channels[0],
            "deploybot",
            "Deploy of api v2.31 finished. Anyone seeing issues?",
        )
        yield from self._edited_into_question(self._moment(day))
        yield from self._deleted_question(self._moment(day))

    def _question(self, at: datetime, channel: str, text: str) -> Iterator[SimEvent]:
        r = self.rng
        asker = r.choice(MEMBERS)
        asked = self._message(at, channel, asker, text)
        yield self._posted(asked)
        root = asked.ref
        fate = r.choices(
            ("community", "staff", "ack", "mention", "unanswered"), weights=(45, 25, 5, 8, 17)
        )[0]
        if r.random() < 0.25:
            yield self._post(at + self._delay(8), channel, asker, r.choice(FOLLOW_UPS), root)
        if fate == "unanswered":
            return
        # Mentions are quick chat answers; thread answers take longer.
        when = at + self._delay({"mention": 5, "staff": 35}.get(fate, 25))
        if fate == "ack":
            yield SimEvent(
                when, ReactionAdded(None, root, self._user(r.choice(STAFF)), "eyes", when)
            )
            return
        if fate == "mention":
            helper = r.choice([m for m in MEMBERS if m != asker])
            yield self._post(
                when,
                channel,
                helper,
                f"@{asker} {self._fill(r.choice(ANSWERS))}",
                mentions=(asker,),
            )
            return
        responder = (
            r.choice(STAFF) if fate == "staff" else r.choice([m for m in MEMBERS if m != asker])
        )
        yield self._post(when, channel, responder, self._fill(r.choice(ANSWERS)), root)
        if r.random() < 0.4:
            done = when + self._delay(10)
            yield SimEvent(
                done, ReactionAdded(None, root, self._user(asker), "white_check_mark", done)
            )

    def _edited_into_question(self, at: datetime) -> Iterator[SimEvent]:
        channel = self.channels[0]
        author = self.rng.choice(MEMBERS)
        original = self._message(at, channel, author, "hmm, the exporter again")
        yield self._posted(original)
        edited_at = at + timedelta(minutes=2)
        edited = Message(
            original.ref,
            original.author,
            "hmm, the exporter again: how do I make it skip archived projects?",
            original.posted_at,
        )
        yield SimEvent(edited_at, MessageEdited(None, edited, edited_at))

    def _deleted_question(self, at: datetime) -> Iterator[SimEvent]:
        channel = self.channels[0]
        asked = self._message(
            at,
            channel,
            self.rng.choice(MEMBERS),
            "How do I paste my API key here so someone can check it?",
        )
        yield self._posted(asked)
        gone = at + timedelta(minutes=3)
        yield SimEvent(gone, MessageDeleted(None, asked.ref, gone))
