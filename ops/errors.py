"""The one failure type commands raise, and what `python -m ops` exits with.

    0  everything was checked and is healthy
    1  it was checked, and something is wrong or not protected
    2  bad input: a flag, a stack file, a fleet file
    3  it could not be checked: no credentials, unreachable, timed out

Library modules raise OpsError (or their own errors, which commands turn into it); only `ops.cli` prints it.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_CANNOT_CHECK = 3
EXIT_CODES_HELP = """exit codes (every command):
  0  everything was checked and is healthy
  1  it was checked, and something is wrong or not protected
  2  bad input: a flag, a stack file, a fleet file, a policy config (nothing was touched)
  3  it could not be checked: no credentials, unreachable, timed out
  130 interrupted (Ctrl-C, SIGTERM)"""
# A drill (or any command) stopped by SIGINT/SIGTERM: the shell's convention, 128 + SIGINT.
EXIT_INTERRUPTED = 130


class OpsError(Exception):
    """An operator-facing failure: printed as one clear message, no traceback."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.exit_code = exit_code
