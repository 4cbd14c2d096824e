"""SIGKILL the daemon at random points while it ingests and delivers; nothing is lost or doubled."""

from __future__ import annotations

import os
from pathlib import Path

from tests.daemon.crashkit import CrashPlan, run_crash_test

CYCLES = int(os.environ.get("SOCIALINBOX_CRASH_CYCLES", "20"))


async def test_sigkill_cycles_lose_nothing(tmp_path: Path) -> None:
    report = await run_crash_test(tmp_path, CrashPlan(cycles=max(CYCLES, 20)))

    assert report.problems == [], report.summary()
    assert report.messages_stored == report.texts_sent
    assert report.webhook_keys == report.messages_stored
    assert report.jsonl_keys == report.messages_stored
    assert report.final_exit_code == 0
    # The kills must have landed while work was in flight, not only between runs.
    assert report.webhook_requests > report.webhook_keys, report.summary()
    assert len(report.kill_delays) + report.early_kills == report.cycles
