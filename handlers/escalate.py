"""Escalation: staff hand a member's message to a support or product channel, and back.

Three ways in, all staff-only: `/frontline escalate <link> <destination> [reason]`, the
message shortcut / context-menu command, and a reaction with a destination's emoji. The
escalation post in the destination says who asked what, where and how long ago, who
escalated it and why, with Acknowledge and Resolve buttons; it is updated in place as its
state changes. The member hears that the team has it, and hears the resolution.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta

from bot.context import Context
from bot.core.events import (
    ActionInvoked,
    CommandInvoked,
    MessageDeleted,
    ReactionAdded,
    ShortcutInvoked,
)
from bot.core.model import (
    ChannelRef,
    Escalation,
    EscalationState,
    MessageRef,
    Post,
    PostAction,
    Question,
    QuestionState,
    Reply,
    UserRef,
)
from bot.core.platform import PlatformError
from bot.core.router import PermissionDenied, Router, UsageError
from bot.outbox import Send, SendHooks
from bot.storage.repos import Repo
from config.settings import DestinationConfig, format_duration

log = logging.getLogger(__name__)

EXCERPT = 300
# A refused escalation post is tried again on the sweeps after this long.
REPOST_AFTER = timedelta(minutes=1)
REPOST_JOB = "escalation-repost"
# Outbox key prefix of a repost (the escalation's id follows).
REPOST_KEY = "escalation:"
REPOST_EVERY = timedelta(seconds=30)
ACK, RESOLVE = "escalation.ack", "escalation.resolve"
# Slack <@U1>, <!here>, <!subteam^S1|@team>; Discord <@1>, <@&2>; plain @everyone/@here.
_SLACK_MENTION = re.compile(r"<([@#!])([^>|]+)(?:\|([^>]*))?>")
_BROADCAST = re.compile(r"@(everyone|here|channel)\b", re.IGNORECASE)


def safe_excerpt(text: str, limit: int = EXCERPT) -> str:
    """The start of a message with every mention defused, so the copy pings nobody."""

    def plain(match: re.Match[str]) -> str:
        sigil, target, label = match.groups()
        shown = (label or target).lstrip("@&^").removeprefix("subteam^")
        return f"{'#' if sigil == '#' else '@'}\u200b{shown}"

    text = _BROADCAST.sub("@\u200b\\1", _SLACK_MENTION.sub(plain, text))
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def destination_names(ctx: Context) -> str:
    """The configured destinations, for usage messages."""
    return ", ".join(d.name for d in ctx.settings.destinations) or "(none configured)"


async def escalate(
    ctx: Context, ref: MessageRef, name: str, reason: str, by: UserRef, at: datetime
) -> Reply:
    """Escalate `ref` to destination `name`; the one path for command, shortcut and emoji."""
    if not await ctx.is_staff(by):
        raise PermissionDenied("only staff can escalate; ask a community manager")
    destination = ctx.settings.destination(name)
    if destination is None:
        raise UsageError(f"Unknown destination `{name[:40]}`. Known: {destination_names(ctx)}.")
    existing = await ctx.store.read(Repo.escalation_by_original, ref)
    if existing is not None:
        return Reply(_already(existing))
    source = ctx.platform(ref.platform)
    # For a follow-up post, what is escalated is the member's question it carries on.
    question = await ctx.store.question_asked_by(ref)
    try:
        message = await source.fetch(ref)
    except PlatformError as exc:
        log.warning("could not fetch %s to escalate it: %s", ref, exc)
        return Reply(f"I could not reach {ref.platform} to read that message; try again shortly.")
    stored = await ctx.store.get_message(ref)
    if message is None and question is None:
        return Reply(
            "I can't see that message: it may have been deleted, or I am not in that channel."
        )
    if (stored is not None and stored.deleted) or (
        question is not None and question.state == QuestionState.DISMISSED
    ):
        return Reply("That message was deleted; there is nothing left to escalate.")
    private = await source.is_private(ref.channel_ref)
    text = message.text if message is not None else question.text if question else ""
    author = message.author if message is not None else None
    new = Escalation(
        id=0,
        original=ref,
        question_id=question.id if question else None,
        destination=destination.name,
        target=ChannelRef(destination.platform, destination.space, destination.channel),
        post=None,
        author=author.user if author else (question.asker if question else ""),
        author_name=author.name if author else (question.asker_name if question else ""),
        excerpt=safe_excerpt(text),
        private_source=private,
        reason=reason.strip()[:500],
        state=EscalationState.OPEN,
        opened_at=at,
        opened_by=by.user,
        opened_by_name=by.label(),
        posted_at=message.posted_at if message else (question.asked_at if question else None),
    )
    escalation = await ctx.store.write(_open, new, question, at)
    if escalation is None:  # another staff member was faster
        existing = await ctx.store.read(Repo.escalation_by_original, ref)
        return Reply(_already(existing) if existing else "That message is being escalated.")
    try:
        sent = await _post(ctx, escalation, destination)
    except (PlatformError, LookupError) as exc:
        later = isinstance(exc, PlatformError) and exc.safe_to_resend
        return Reply(
            f"Recorded, but I could not post to the {destination.name} channel ({exc}). "
            + (
                "It is kept as an open escalation and I will post it again shortly."
                if later
                else "It is kept as an open escalation; check the bot's access to that channel."
            )
        )
    if ctx.settings.escalation.note_in_thread:
        note = ctx.settings.escalation.note_text.format(destination=destination.name)
        try:
            await source.reply_in_thread(ref, Post(note))
        except PlatformError as exc:
            log.warning("could not tell the member about escalation %s: %s", escalation.id, exc)
    where = await _link(ctx, sent)
    return Reply(f"Escalated to {destination.name}: {where}")


async def _post(ctx: Context, escalation: Escalation, destination: DestinationConfig) -> MessageRef:
    """Post the escalation in its destination and remember where; raises on failure."""
    try:
        sent = await ctx.platform(destination.platform).post(
            escalation.target, await render(ctx, escalation, destination)
        )
    except (PlatformError, LookupError) as exc:
        log.warning("escalation %s to %s failed: %s", escalation.id, destination.name, exc)
        if isinstance(exc, PlatformError) and exc.maybe_done:
            # No answer: the post may exist. An empty ref means "don't post it again".
            await ctx.store.write(Repo.update_escalation, escalation.id, dest_message="")
        raise
    await ctx.store.write(Repo.update_escalation, escalation.id, dest_message=sent.message)
    return sent


async def repost_refused(ctx: Context, now: datetime) -> None:
    """Post again, through the outbox, the escalations a destination refused.

    The outbox row (one per escalation, by key) is the claim: of several replicas whose
    repost jobs overlap only one records it, and the outbox retries it with backoff and
    checks, after a timeout or a crash, whether it arrived before posting it again.
    """
    for escalation in await ctx.store.read(
        Repo.unposted_escalations, now - REPOST_AFTER, REPOST_KEY
    ):
        destination = ctx.settings.destination(escalation.destination)
        if destination is None:
            continue
        post = await render(ctx, escalation, destination)
        key = f"{REPOST_KEY}{escalation.id}"
        send = Send("escalation", key, escalation.target, post, {"escalation": escalation.id})
        await ctx.store.write(lambda repo, send=send: ctx.outbox.add(repo, send, now))
    await ctx.outbox.deliver(ctx, claim=False)


def _reposted(repo: Repo, send: Send, at: datetime, ref: MessageRef) -> None:
    repo.update_escalation(int(send.meta["escalation"]), dest_message=ref.message)


def _already(existing: Escalation) -> str:
    return (
        f"Already escalated to {existing.destination} by {existing.opened_by} "
        f"({existing.state.value}); nothing new was created."
    )


async def _link(ctx: Context, ref: MessageRef) -> str:
    try:
        return await ctx.platform(ref.platform).permalink(ref)
    except (PlatformError, LookupError):
        return f"{ref.channel}/{ref.message}"


def _open(
    repo: Repo, new: Escalation, question: Question | None, at: datetime
) -> Escalation | None:
    """Record the escalation and stop the question's nudges, in one transaction."""
    escalation = repo.insert_escalation(new)
    if escalation is None or question is None:
        return escalation
    current = repo.question(question.id)
    if current is not None and current.state in (
        QuestionState.OPEN,
        QuestionState.SNOOZED,
        QuestionState.ANSWERED,
    ):
        repo.update_question(current.id, state=QuestionState.ESCALATED, due_at=None)
        repo.log(current.id, at, "escalated", new.opened_by, new.destination)
    return escalation


async def render(ctx: Context, escalation: Escalation, destination: DestinationConfig) -> Post:
    """The escalation post: what, who, where, how long ago, why, state, and the buttons."""
    link = await _link(ctx, escalation.original)
    config = ctx.settings.channel(escalation.original.platform, escalation.original.channel)
    where = config.label() if config else escalation.original.channel
    age = format_duration(ctx.now() - escalation.opened_at) if escalation.opened_at else "–"
    question = (
        await ctx.store.read(Repo.question, escalation.question_id)
        if escalation.question_id
        else None
    )
    show_text = not escalation.private_source or destination.allow_private_content
    if not show_text:
        excerpt = "(from a private channel: open the link)"
    else:
        excerpt = escalation.excerpt or "(text not available to the bot: open the link)"
    title = f"Escalated to {escalation.destination}: {escalation.state.value}"
    fields = [
        ("From", escalation.author_name or escalation.author),
        ("Where", f"{where} on {escalation.original.platform}"),
        ("Posted", _posted(escalation, ctx.now())),
        ("Escalated by", escalation.opened_by_name or escalation.opened_by),
        ("Why", escalation.reason or "–"),
        ("Response time", _response_state(question, ctx.now())),
        ("Open for", age),
    ]
    if escalation.acknowledged_by:
        fields.append(("Acknowledged by", escalation.acknowledged_by))
    if escalation.resolved_by:
        fields.append(("Resolved by", escalation.resolved_by))
        if escalation.resolution:
            fields.append(("Resolution", escalation.resolution))
    if escalation.original_deleted:
        fields.append(("Note", "the original message was deleted"))
    actions: tuple[PostAction, ...] = ()
    if escalation.state == EscalationState.OPEN:
        actions = (
            PostAction(ACK, "Acknowledge", str(escalation.id), "primary"),
            PostAction(RESOLVE, "Resolve", str(escalation.id)),
        )
    elif escalation.state == EscalationState.ACKNOWLEDGED:
        actions = (PostAction(RESOLVE, "Resolve", str(escalation.id), "primary"),)
    lines = [title, f"“{excerpt}”", *(f"{k}: {v}" for k, v in fields), f"Original: {link}"]
    return Post(
        "\n".join(lines),
        title,
        footer=f"“{excerpt}”\nOriginal: {link}",
        fields=tuple(fields),
        actions=actions,
    )


def _posted(escalation: Escalation, now: datetime) -> str:
    """When the member posted, and how long ago."""
    if escalation.posted_at is None:
        return "–"
    ago = format_duration(now - escalation.posted_at)
    return f"{escalation.posted_at:%Y-%m-%d %H:%M} UTC ({ago} ago)"


def _response_state(question: Question | None, now: datetime) -> str:
    if question is None:
        return "not a tracked question"
    if question.first_response_at is not None:
        return f"first response after {format_duration(question.ttfr_seconds or 0)}"
    waited = format_duration(now - question.asked_at)
    return f"no response for {waited}" + (" (past target)" if question.breached else "")


async def _refresh(ctx: Context, escalation: Escalation) -> None:
    """Update the escalation post in place."""
    destination = ctx.settings.destination(escalation.destination)
    if escalation.post is None or destination is None:
        return
    try:
        await ctx.platform(escalation.post.platform).update(
            escalation.post, await render(ctx, escalation, destination)
        )
    except (PlatformError, LookupError) as exc:
        log.warning("could not update escalation post %s: %s", escalation.id, exc)


async def act(ctx: Context, event: ActionInvoked) -> Reply:
    """Acknowledge or resolve from the buttons."""
    if not await ctx.is_staff(event.user):
        raise PermissionDenied("only staff can acknowledge or resolve escalations")
    try:
        escalation_id = int(event.value)
    except ValueError:
        return Reply("That button no longer points at an escalation.")
    escalation = await ctx.store.read(Repo.escalation, escalation_id)
    if escalation is None:
        return Reply("That escalation no longer exists.")
    if escalation.state == EscalationState.RESOLVED:
        return Reply("This escalation is already resolved.")
    if event.action == ACK:
        if escalation.state == EscalationState.ACKNOWLEDGED:
            return Reply("Already acknowledged.")
        escalation = await ctx.store.write(_acknowledge, escalation.id, event.user, event.at)
        await _refresh(ctx, escalation)
        return Reply("Acknowledged.")
    if event.action == RESOLVE:
        note = event.note.strip()[:1000]
        escalation = await ctx.store.write(_resolve, escalation.id, event.user, event.at, note)
        await _refresh(ctx, escalation)
        await _tell_member(ctx, escalation, note)
        return Reply("Resolved" + (" and the member was told." if note else "."))
    return Reply("Unknown action.")


def _acknowledge(repo: Repo, escalation_id: int, user: UserRef, at: datetime) -> Escalation:
    # The history keeps the id; the post shows the name.
    repo.log_escalation(escalation_id, at, "acknowledged", user.user, None)
    return repo.update_escalation(
        escalation_id,
        state=EscalationState.ACKNOWLEDGED,
        acknowledged_at=at,
        acknowledged_by=user.label(),
    )


def _resolve(repo: Repo, escalation_id: int, user: UserRef, at: datetime, note: str) -> Escalation:
    repo.log_escalation(escalation_id, at, "resolved", user.user, note or None)
    escalation = repo.update_escalation(
        escalation_id,
        state=EscalationState.RESOLVED,
        resolved_at=at,
        resolved_by=user.label(),
        resolution=note or None,
    )
    if escalation.question_id is not None:
        question = repo.question(escalation.question_id)
        if question is not None and question.state == QuestionState.ESCALATED:
            repo.update_question(
                question.id, state=QuestionState.RESOLVED, resolved_at=at, resolved_by=user.user
            )
            repo.log(question.id, at, "resolved", user.user, "escalation resolved")
    return escalation


async def _tell_member(ctx: Context, escalation: Escalation, note: str) -> None:
    """Close the loop: the resolution note goes back to the member's thread."""
    if not note or escalation.original_deleted:
        return
    text = ctx.settings.escalation.resolved_text.format(
        destination=escalation.destination, note=note
    )
    try:
        await ctx.platform(escalation.original.platform).reply_in_thread(
            escalation.original, Post(text)
        )
    except (PlatformError, LookupError) as exc:
        log.warning("could not tell the member about resolution of %s: %s", escalation.id, exc)


def setup(router: Router[Context]) -> None:
    """Register the escalate command, the shortcut, the emoji and the buttons."""

    @router.command(
        "escalate",
        "/frontline escalate <message link> <destination> [reason]",
        "hand a member's message to the support or product team (staff)",
    )
    async def command(words: list[str], event: CommandInvoked, ctx: Context) -> Reply:
        if len(words) < 2:
            raise UsageError(f"Give the message link and a destination ({destination_names(ctx)}).")
        ref = ctx.parse_link(words[0])
        if ref is None:
            raise UsageError(f"`{words[0][:60]}` is not a message link I know.")
        return await escalate(ctx, ref, words[1], " ".join(words[2:]), event.user, event.at)

    @router.on(ShortcutInvoked)
    async def shortcut(event: ShortcutInvoked, ctx: Context) -> Reply | None:
        if event.name != "escalate":
            return None
        if not event.destination:
            # Refuse members before they pick a destination and type a reason.
            if not await ctx.is_staff(event.user):
                return Reply(
                    "Sorry, you can't do that: only staff can escalate; ask a community manager"
                )
            return Reply(f"Choose a destination: {destination_names(ctx)}.")
        try:
            return await escalate(
                ctx, event.target, event.destination, event.reason, event.user, event.at
            )
        except (UsageError, PermissionDenied) as exc:
            prefix = "Sorry, you can't do that: " if isinstance(exc, PermissionDenied) else ""
            return Reply(f"{prefix}{exc}")

    @router.on(ReactionAdded)
    async def reaction(event: ReactionAdded, ctx: Context) -> Reply | None:
        emoji = event.emoji.strip(":")
        destination = next(
            (d for d in ctx.settings.destinations if d.emoji and d.emoji.strip(":") == emoji),
            None,
        )
        if destination is None or event.user.is_bot or not await ctx.is_staff(event.user):
            return None  # members' reactions are just reactions
        try:
            return await escalate(ctx, event.ref, destination.name, "", event.user, event.at)
        except (UsageError, PermissionDenied):
            return None

    @router.on(ActionInvoked)
    async def button(event: ActionInvoked, ctx: Context) -> Reply | None:
        if event.action not in (ACK, RESOLVE):
            return None
        try:
            return await act(ctx, event)
        except PermissionDenied as exc:
            return Reply(f"Sorry, you can't do that: {exc}")

    router.on_sent("escalation", SendHooks(after=_reposted))

    # Its own job, not a sweep handler: replaying a month would otherwise ask the
    # database once per sweep for escalations that were never refused.
    @router.job(REPOST_JOB, REPOST_EVERY)
    async def repost(ctx: Context) -> None:
        await repost_refused(ctx, ctx.now())

    @router.wake(REPOST_JOB)
    def next_repost(repo: Repo, ctx: Context) -> datetime | None:
        oldest = repo.unposted_escalations(datetime.max.replace(tzinfo=UTC), REPOST_KEY, 1)
        return oldest[0].opened_at + REPOST_AFTER if oldest else None

    @router.on(MessageDeleted)
    async def deleted(event: MessageDeleted, ctx: Context) -> Reply | None:
        escalation = await ctx.store.read(Repo.escalation_by_original, event.ref)
        if escalation is None or escalation.original_deleted:
            return None
        escalation = await ctx.store.write(
            Repo.update_escalation, escalation.id, original_deleted=1
        )
        await _refresh(ctx, escalation)
        return None
