"""A big replay on several processes: the export's channels split into parts, one each.

Channels never share a question, so each part (bot/replay_part.py) plays its own
channels into its own scratch database and the questions of all parts add up to what
one process would have found, line for line (tests/bot/test_replay_workers.py). The
only moment they agree on is the end: each worker reports its first and last message
once it has read them all, and every worker then sweeps up to the latest of them.

Parts are balanced by the bytes of their channels' files (largest channel first, into
the lightest part), so an export dominated by one channel gains little: that channel
is one part.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import traceback
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from multiprocessing.connection import Connection
from multiprocessing.context import SpawnProcess
from multiprocessing.sharedctypes import Synchronized
from typing import Any

from bot.core.model import Question
from bot.imports.common import ConversationSize
from bot.replay_part import PartOptions, Played, play_part
from config.settings import Settings

# Below this many bytes of message files a second process costs more (about half a
# second to start and import) than it saves.
MIN_PART_BYTES = 4_000_000


# Each worker holds its own interpreter and scratch database (about 80 MB): on a big
# machine the default stops here, and `--workers` goes further when asked.
DEFAULT_MOST = 8


def available_cpus() -> int:
    """The processors this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def default_workers() -> int:
    """One worker per processor, up to `DEFAULT_MOST`."""
    return min(available_cpus(), DEFAULT_MOST)


def split(sizes: list[ConversationSize], workers: int) -> list[list[str]]:
    """The conversations in at most `workers` parts of about equal bytes.

    A channel and its threads stay together. Fewer parts when the export is small
    (`MIN_PART_BYTES` each at least) or has fewer channels; never an empty part.
    """
    channels: dict[str, list[str]] = defaultdict(list)
    loads_of: Counter[str] = Counter()
    for conversation in sizes:
        channels[conversation.watched].append(conversation.id)
        loads_of[conversation.watched] += conversation.bytes
    total = sum(loads_of.values())
    count = max(1, min(workers, len(channels), total // MIN_PART_BYTES))
    parts: list[list[str]] = [[] for _ in range(count)]
    loads = [0] * count
    for channel in sorted(channels, key=lambda c: (-loads_of[c], c)):
        lightest = loads.index(min(loads))
        parts[lightest] += channels[channel]
        loads[lightest] += loads_of[channel]
    return [part for part in parts if part]


class WorkerFailed(RuntimeError):
    """A worker process of a replay stopped with an error or died."""


async def play_in_workers(
    options: PartOptions,
    settings: Settings,
    parts: list[list[str]],
    tick: Callable[[int], None] = lambda n: None,
) -> list[Played]:
    """Play each part in a process of its own; the parts' results, in order."""
    context = multiprocessing.get_context("spawn")
    counter: Synchronized[int] = context.Value("q", 0)
    workers: list[tuple[SpawnProcess, Connection]] = []
    try:
        for number, channels in enumerate(parts):
            ours, theirs = context.Pipe()
            process = context.Process(
                target=_worker_main,
                args=(replace(options, channels=channels), settings, theirs, counter),
                name=f"frontline-replay-{number + 1}",
                daemon=True,
            )
            process.start()
            theirs.close()
            workers.append((process, ours))
        reads = [asyncio.create_task(_receive(process, conn)) for process, conn in workers]
        spans, shown = await _gather_ticking(reads, counter, tick, 0)
        lasts = [last for _, (_, last) in spans if last is not None]
        end = max(lasts) if lasts else None
        if end is not None and options.until is not None:
            end = max(end, options.until)
        for _, conn in workers:
            conn.send(end)
        results = [asyncio.create_task(_results(process, conn)) for process, conn in workers]
        played, _ = await _gather_ticking(results, counter, tick, shown)
        return played
    finally:
        for process, conn in workers:
            conn.close()
            if process.is_alive():
                process.terminate()
            process.join(timeout=5)


async def _gather_ticking(
    tasks: list[asyncio.Task[Any]],
    counter: Synchronized[int],
    tick: Callable[[int], None],
    shown: int,
) -> tuple[list[Any], int]:
    """Wait for every task, passing the workers' message count on to `tick` meanwhile.

    The first failure cancels the rest and is raised.
    """
    pending = set(tasks)
    try:
        while pending:
            done, pending = await asyncio.wait(
                pending, timeout=0.25, return_when=asyncio.FIRST_EXCEPTION
            )
            count = counter.value
            if count > shown:
                tick(count - shown)
                shown = count
            for task in done:
                task.result()  # raises the worker's failure at once
    finally:
        for task in pending:
            task.cancel()
    return [task.result() for task in tasks], shown


async def _receive(process: SpawnProcess, conn: Connection) -> Any:
    """The next thing a worker says; its error raised here, its death as WorkerFailed."""
    try:
        kind, payload = await asyncio.to_thread(conn.recv)
    except (EOFError, OSError):
        process.join(timeout=5)
        raise WorkerFailed(
            f"replay worker {process.name} died (exit code {process.exitcode})"
        ) from None
    if kind == "error":
        raise payload
    return kind, payload


async def _results(process: SpawnProcess, conn: Connection) -> Played:
    """A worker's pages of questions, then what else it found."""
    questions = []
    while True:
        kind, payload = await _receive(process, conn)
        if kind == "questions":
            questions += payload
        else:
            played: Played = payload
            played.questions = questions
            return played


def _worker_main(
    options: PartOptions, settings: Settings, conn: Connection, counter: Synchronized[int]
) -> None:
    """A worker process: play one part, report its span, wait for the end, send the result."""
    # Ctrl-C reaches the whole process group: the parent stops the workers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def tick(n: int) -> None:
        with counter.get_lock():
            counter.value += n

    async def agree_end(first: datetime | None, last: datetime | None) -> datetime | None:
        conn.send(("span", (first, last)))
        end: datetime | None = await asyncio.to_thread(conn.recv)
        return end

    try:

        def sink(page: list[Question]) -> None:
            conn.send(("questions", page))

        played = asyncio.run(play_part(options, settings, agree_end, tick, sink))
        conn.send(("played", played))
    except Exception as exc:  # raised again in the parent, which decides what to say
        if not isinstance(exc, ValueError | OSError):
            traceback.print_exc()  # a bug: its trace is on the worker's stderr
        try:
            conn.send(("error", exc))
        except Exception:  # an exception that does not pickle
            conn.send(("error", WorkerFailed(f"{type(exc).__name__}: {exc}")))
    finally:
        conn.close()
