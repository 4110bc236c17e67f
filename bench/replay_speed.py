"""Replay speed and memory: a synthetic Slack export through `frontline replay`'s pipeline.

Writes a synthetic export of `--messages` posts (or reuses `--export`), replays it as
`frontline replay` does, with one process and with one per processor (`--workers`),
each in a fresh interpreter, and prints messages per second and peak memory, beside the
baseline of only reading the export (the floor: parsing, no decisions). Peak memory is
given twice: while the messages are replayed (each worker's, when split), and at the
end, when the result holds every question (as `frontline replay` must, for its report).

    .venv/bin/python bench/replay_speed.py --messages 100000
    .venv/bin/python bench/export_tools.py synth --messages 1000000 --out /dev/shm/synth1m
    .venv/bin/python bench/replay_speed.py --export /dev/shm/synth1m
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from export_tools import synthetic_events, write_slack_export

from bot.imports import open_export
from bot.replay import ReplayOptions, replay
from bot.replay_workers import default_workers
from bot.storage.repos import Store


def peak_mb() -> float:
    """Peak resident memory of this process so far (ru_maxrss is in KiB on Linux)."""
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 1e6


def read_only(export: Path) -> tuple[int, float]:
    """The baseline: read and translate every message of the export, decide nothing."""
    began = time.perf_counter()
    count = sum(1 for _ in open_export(export, "auto").messages())
    return count, time.perf_counter() - began


def run_one(export: Path, workers: int) -> dict[str, float]:
    """One replay in this process (a fresh one: peak memory is per configuration)."""
    during: list[float] = []
    asked_between = Store.asked_between

    async def measured(self: Store, *a: object, **kw: object) -> object:
        if not during:
            during.append(peak_mb())  # the replay is over: only the final read is left
        return await asked_between(self, *a, **kw)  # type: ignore[arg-type]

    Store.asked_between = measured  # type: ignore[assignment,method-assign]
    result = asyncio.run(replay(ReplayOptions(export, progress=False, workers=workers)))
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "seconds": result.elapsed,
        "messages": result.messages,
        "questions": len(result.questions),
        "nudges": result.nudges,
        "workers": result.workers,
        # In a worker the final read goes page by page: its peak is the replay's.
        "replaying_mb": during[0] if during else children * 1024 / 1e6,
        "result_mb": peak_mb(),
    }


def measure(export: Path, workers: int) -> dict[str, float]:
    """`run_one` in a fresh interpreter."""
    out = subprocess.run(
        [sys.executable, __file__, "--export", str(export), "--one", str(workers)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    figures: dict[str, float] = json.loads(out.splitlines()[-1])
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--export", type=Path, help="replay this export instead of a new one")
    parser.add_argument(
        "--workers",
        default=f"1,{default_workers()}",
        help="comma-separated worker counts to measure (default: 1 and the replay's default)",
    )
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(run_one(args.export, args.one)))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        export = args.export
        if export is None:
            export = Path(tmp) / "synth"
            write_slack_export(export, synthetic_events(args.messages))
        count, floor = read_only(export)
        print(f"export: {count:,} messages ({export})")
        print(f"read only (floor): {floor:6.1f} s  {count / floor:9,.0f} messages/s")
        for workers in dict.fromkeys(int(w) for w in args.workers.split(",")):
            r = measure(export, workers)
            print(
                f"replay, {r['workers']:.0f} process(es): {r['seconds']:6.1f} s  "
                f"{r['messages'] / r['seconds']:9,.0f} messages/s; {r['questions']:,.0f} "
                f"questions, {r['nudges']:,.0f} nudges; peak RSS replaying "
                f"{r['replaying_mb']:.0f} MB{' (each worker)' if r['workers'] > 1 else ''}, "
                f"with the result {r['result_mb']:.0f} MB"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
