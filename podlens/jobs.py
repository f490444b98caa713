"""Long work in the background of a server process: a demo's training, aligning an episode to
its audio.  The app starts a :class:`BackgroundRun` and draws its progress from the page
without waiting for it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any


class BackgroundRun:
    """Run ``fn(on_record=..., stop=...)`` in a daemon thread and expose its progress.

    ``records`` grows as the training reports metric dicts (read it from the UI thread: appends
    are atomic in CPython); ``stop()`` asks it to finish early (it saves and returns a partial
    result); ``result`` / ``error`` are set when the thread ends.
    """

    def __init__(self, fn: Callable[..., Any], name: str = "demo"):
        self.records: list[dict[str, Any]] = []
        self.result: Any = None
        self.error: BaseException | None = None
        self.started = time.time()
        self._stop = threading.Event()
        self._fn = fn
        self.thread = threading.Thread(target=self._run, name=f"podlens-{name}", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.result = self._fn(on_record=self.records.append, stop=self._stop)
        except BaseException as e:  # reported to the UI, not raised in a thread nobody joins
            self.error = e

    def stop(self) -> None:
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    @property
    def done(self) -> bool:
        return not self.thread.is_alive()

    def join(self, timeout: float | None = None) -> Any:
        self.thread.join(timeout)
        if self.error is not None:
            raise self.error
        return self.result
