"""`/frontline` subcommands every platform shares: unanswered, stats, resolve, snooze.

Answers are private to the caller. Staff-only actions say why when refused.
"""

from __future__ import annotations

import re
from datetime import timedelta

from bot.context import Context
from bot.core.events import CommandInvoked
from bot.core.model import MessageRef, Post, Reply
from bot.core.router import PermissionDenied, Router, UsageError
from bot.metrics import escalation_figures, figures
from bot.storage.repos import Repo
from config.settings import format_duration, parse_duration
from handlers._format import channel_label, escalation_line, figure_lines, waiting_items

# Slack sends channel mentions as <#C123|name>; Discord as <#123>; people type #name.
_CHANNEL = re.compile(r"^<#(?P<id>[A-Za-z0-9]+)(?:\|(?P<name>[^>]*))?>$|^#?(?P<plain>[\w.-]+)$")
MAX_PERIOD = timedelta(days=366)


def resolve_channel(ctx: Context, platform: str, word: str) -> str:
    """A watched channel id from `#name`, a channel mention or an id."""
    match = _CHANNEL.match(word)
    if not match:
        raise UsageError(f"`{word[:40]}` is not a channel.")
    wanted = match.group("id") or match.group("plain")
    for channel in ctx.settings.channels:
        if channel.platform == platform and wanted in (channel.id, channel.name):
            return channel.id
    raise UsageError(f"`{word[:40]}` is not a watched channel.")


def parse_period(words: list[str]) -> timedelta:
    """`7d`, `24h`, `today` or nothing (one day)."""
    if not words:
        return timedelta(days=1)
    if len(words) > 1:
        raise UsageError("Give one period, like `7d`.")
    if words[0].lower() in ("today", "day"):
        return timedelta(days=1)
    if words[0].lower() == "week":
        return timedelta(days=7)
    try:
        period = parse_duration(words[0])
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if not timedelta(0) < period <= MAX_PERIOD:
        raise UsageError("The period must be between 1s and 366d.")
    return period


async def _staff_only(ctx: Context, event: CommandInvoked, action: str) -> None:
    if not await ctx.is_staff(event.user):
        raise PermissionDenied(f"only staff can {action}; ask a community manager to do it")


def _message(ctx: Context, word: str) -> MessageRef:
    ref = ctx.parse_link(word)
    if ref is None:
        raise UsageError(f"`{word[:60]}` is not a message link I know.")
    return ref


def setup(router: Router[Context]) -> None:
    """Register the shared subcommands."""

    @router.command(
        "unanswered",
        "/frontline unanswered [#channel]",
        "questions still waiting for a first response, oldest first",
    )
    async def unanswered(words: list[str], event: CommandInvoked, ctx: Context) -> Reply:
        if len(words) > 1:
            raise UsageError("Give at most one channel.")
        channel = resolve_channel(ctx, event.channel.platform, words[0]) if words else None
        now = ctx.now()
        waiting = await ctx.store.waiting(limit=10, channel=channel)
        total = await ctx.store.count_waiting(channel)
        where = (
            f" in {channel_label(ctx.settings, event.channel.platform, channel)}" if channel else ""
        )
        if not waiting:
            return Reply(f"Nothing is waiting{where}. No question left behind.")
        items, _ = waiting_items(waiting, now, ctx.settings)
        more = total - len(items)
        title = f"{total} question{'s' if total != 1 else ''} waiting{where}"
        lines = [title, *(f"• {i.text}" for i in items)] + ([f"…and {more} more"] if more else [])
        return Reply("\n".join(lines), post=Post("\n".join(lines), title, items, more=more))

    @router.command(
        "stats",
        "/frontline stats [7d]",
        "questions, answered share and response times over a period",
    )
    async def stats(words: list[str], event: CommandInvoked, ctx: Context) -> Reply:
        period = parse_period(words)
        now = ctx.now()
        f = await figures(ctx.store, now - period, now, now)
        previous = await figures(ctx.store, now - 2 * period, now - period, now)
        title = (
            f"Last {format_duration(period)} (changes against the {format_duration(period)} before)"
        )
        lines = figure_lines(f, ctx.settings, event.channel.platform, previous)
        escalations = await ctx.store.read(Repo.escalations_between, now - period, now)
        if line := escalation_line(escalation_figures(escalations)):
            lines.append(line)
        return Reply("\n".join([title, *lines]), post=Post("\n".join(lines), title))

    @router.command(
        "resolve", "/frontline resolve <message link>", "mark a question resolved (staff)"
    )
    async def resolve(words: list[str], event: CommandInvoked, ctx: Context) -> Reply:
        if len(words) != 1:
            raise UsageError("Give the link of the question's message.")
        await _staff_only(ctx, event, "resolve questions")
        ref = _message(ctx, words[0])
        done = await ctx.store.write(ctx.tracker.resolve, ref, event.user, event.at)
        await ctx.emit(done)
        if not done:
            question = await ctx.store.question_by_ref(ref)
            if question is None:
                return Reply("That message is not a tracked question.")
            return Reply(f"That question is already {question.state.value}.")
        return Reply("Resolved. It will not be nudged again.")

    @router.command(
        "snooze",
        "/frontline snooze <message link> <duration>",
        "pause warnings about a question, e.g. for 2h (staff)",
    )
    async def snooze(words: list[str], event: CommandInvoked, ctx: Context) -> Reply:
        if len(words) != 2:
            raise UsageError("Give the question's link and how long, like `2h`.")
        await _staff_only(ctx, event, "snooze questions")
        ref = _message(ctx, words[0])
        try:
            duration = parse_duration(words[1])
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        if not timedelta(minutes=1) <= duration <= timedelta(days=30):
            raise UsageError("Snooze for between 1m and 30d.")
        until = event.at + duration
        done = await ctx.store.write(ctx.tracker.snooze, ref, until, event.user, event.at)
        await ctx.emit(done)
        if not done:
            question = await ctx.store.question_by_ref(ref)
            if question is None:
                return Reply("That message is not a tracked question.")
            return Reply(
                f"Only a waiting question can be snoozed; this one is {question.state.value}."
            )
        return Reply(f"Snoozed for {format_duration(duration)}; warnings resume after that.")
