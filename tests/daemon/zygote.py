"""A launcher that imports socialinbox once and forks ``socialinbox daemon`` processes on request.

Starting the command line costs about two seconds of imports, which would
dominate a crash test of many short runs. This launcher pays that once; each
forked child then runs the real ``socialinbox daemon`` command (``main([...])``)
as its own process, which the test kills with SIGKILL like any other.

Protocol, one JSON object per line on stdin and stdout:

* ``{"op": "spawn", "args": [...], "log": PATH, "cwd": DIR}`` -> ``{"pid": N}``
* ``{"op": "wait", "pid": N}`` -> ``{"status": CODE}``, negative for a signal.
"""

from __future__ import annotations

import json
import os
import sys

# Everything the daemon imports at start-up, so that the children find it loaded.
import socialinbox.adapters.meta.adapter
import socialinbox.adapters.telegram.adapter
import socialinbox.adapters.twitter.adapter
import socialinbox.crm.chatwoot
import socialinbox.crm.jsonl
import socialinbox.crm.webhook
import socialinbox.daemon.app
import socialinbox.daemon.server
import socialinbox.store.migrations  # noqa: F401
from socialinbox.cli import main
from socialinbox.cli.main import build_cli

# Building the command tree imports every command module once, here instead of in each child.
build_cli("en")


def _child(request: dict[str, object]) -> None:
    log = os.open(str(request["log"]), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.chdir(str(request["cwd"]))
    code = 0
    try:
        main([str(argument) for argument in request["args"]])  # type: ignore[attr-defined]
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def serve() -> None:
    for line in sys.stdin:
        request = json.loads(line)
        if request["op"] == "spawn":
            pid = os.fork()
            if pid == 0:
                _child(request)
            answer: dict[str, int] = {"pid": pid}
        elif request["op"] == "wait":
            _, status = os.waitpid(int(request["pid"]), 0)
            answer = {"status": os.waitstatus_to_exitcode(status)}
        else:
            raise ValueError(f"unknown operation {request['op']!r}")
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    serve()
