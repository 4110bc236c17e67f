"""Replay speed and memory: a synthetic Slack export through `frontline replay`'s pipeline.

Writes a synthetic export of `--messages` posts (or reuses `--export`), replays it as
`frontline replay` does, and prints messages per second and peak memory, beside the
baseline of only reading the export (the floor: parsing, no decisions). Peak memory is
given twice: while the messages are replayed, and at the end, when the result holds
every question (as `frontline replay` must, for its report).

    .venv/bin/python bench/replay_speed.py --messages 100000
    .venv/bin/python bench/export_tools.py synth --messages 1000000 --out /dev/shm/synth1m
    .venv/bin/python bench/replay_speed.py --export /dev/shm/synth1m
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from export_tools import synthetic_events, write_slack_export

from bot.imports import open_export
from bot.replay import ReplayOptions, replay
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--export", type=Path, help="replay this export instead of a new one")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        export = args.export
        if export is None:
            export = Path(tmp) / "synth"
            write_slack_export(export, synthetic_events(args.messages))
        count, floor = read_only(export)

        during: list[float] = []
        asked_between = Store.asked_between

        async def measured(self: Store, *a: object, **kw: object) -> object:
            during.append(peak_mb())  # the replay is over: only the final read is left
            return await asked_between(self, *a, **kw)  # type: ignore[arg-type]

        Store.asked_between = measured  # type: ignore[assignment,method-assign]
        result = asyncio.run(replay(ReplayOptions(export, progress=False)))
    print(f"export: {count:,} messages ({export})")
    print(f"read only (floor): {floor:6.1f} s  {count / floor:9,.0f} messages/s")
    print(
        f"replay:            {result.elapsed:6.1f} s  {result.messages / result.elapsed:9,.0f} "
        f"messages/s; {len(result.questions):,} questions, {result.nudges:,} nudges"
    )
    print(f"peak RSS while replaying: {during[0]:.0f} MB; with the result: {peak_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
