"""A bound on how long a read-only command may take, whatever its clients do: the work runs in a daemon thread, and
when the bound passes the command reports "could not check" (exit 3) instead of hanging. Nothing is left half
written: only commands that change nothing use this (`backup status`), and the process exits right after."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from ops.errors import EXIT_CANNOT_CHECK, OpsError

T = TypeVar("T")


def run_within(seconds: float, work: Callable[[], T], what: str) -> T:
    """`work()`'s result, or its exception re-raised here; OpsError (exit 3) when it is not done in `seconds`."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = work()
        except BaseException as error:  # handed to the caller's thread, which reports it
            outcome["error"] = error

    worker = threading.Thread(target=run, name=f"ops: {what}", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise OpsError(f"{what}: no answer within {seconds:g} s (--timeout); the cloud is unreachable or slow from "
                       "here: check the network, VPN or proxy, then run the command again", EXIT_CANNOT_CHECK)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]  # type: ignore[no-any-return]
