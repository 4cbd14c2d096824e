"""Crash benchmark: kill ``socialinbox daemon`` with SIGKILL many times and check the result.

Each cycle starts the daemon against Telegram, X and Graph emulators on
127.0.0.1, delivers Messenger webhooks to it, and kills it after a random
delay while it polls, ingests and delivers to a webhook receiver and a
jsonl file. A final run drains the backlog and is stopped with SIGTERM.
Then the store must hold every sent message exactly once, and both sinks
must have received exactly the stored messages' idempotency keys.

Usage::

    python benchmarks/crash.py                  # 200 cycles
    python benchmarks/crash.py --cycles 50 --seed 7
    python benchmarks/crash.py --no-fork        # a new interpreter for every run

Exit status 0 when nothing was lost or doubled, 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.daemon.crashkit import CrashPlan, CrashReport, run_crash_test  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=200, help="kill and restart cycles")
    parser.add_argument("--seed", type=int, default=None, help="random seed for the kill delays")
    parser.add_argument(
        "--max-kill-delay",
        type=float,
        default=0.6,
        help="longest run in seconds after the HTTP server is up, before the kill",
    )
    parser.add_argument(
        "--no-fork",
        action="store_true",
        help="start every run as a new interpreter instead of forking a pre-imported one",
    )
    parser.add_argument("--keep", type=Path, default=None, help="folder to keep the database and logs in")
    options = parser.parse_args()

    plan = CrashPlan(
        cycles=options.cycles,
        seed=options.seed,
        max_kill_delay=options.max_kill_delay,
        fork=not options.no_fork,
        drain_timeout=120.0,
    )

    def progress(cycle: int, report: CrashReport) -> None:
        if cycle % 10 == 0 or cycle == plan.cycles:
            print(f"cycle {cycle}/{plan.cycles}", file=sys.stderr, flush=True)

    if options.keep is not None:
        options.keep.mkdir(parents=True, exist_ok=True)
        report = asyncio.run(run_crash_test(options.keep, plan, progress=progress))
    else:
        with tempfile.TemporaryDirectory(prefix="socialinbox-crash-") as folder:
            report = asyncio.run(run_crash_test(Path(folder), plan, progress=progress))
    print(report.summary())
    return 0 if not report.problems else 1


if __name__ == "__main__":
    sys.exit(main())
