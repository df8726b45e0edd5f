"""Children that a test interrupts must be interruptible, whoever started the test run."""

from __future__ import annotations

import signal


def interruptible() -> None:
    """Popen's preexec_fn: SIGINT back to its default in the child. A test run started in the background of
    a non-interactive shell (nohup, `&`) inherits SIGINT ignored, and Python then installs no handler: the
    child would never see the Ctrl-C the test sends."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
