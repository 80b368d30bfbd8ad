"""A small progress line on stderr: percent, rate and time left; quiet when not a terminal."""

from __future__ import annotations

import sys
import time
from typing import TextIO


def _clock(seconds: float) -> str:
    seconds = max(int(seconds), 0)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def _n(number: int) -> str:
    return f"{number:,}".replace(",", ".")


class Progress:
    """`update(done)` redraws at most five times a second; `finish()` always writes one line."""

    def __init__(self, total: int, *, label: str = "", stream: TextIO | None = None) -> None:
        self.total = max(total, 1)
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.interactive = bool(getattr(self.stream, "isatty", lambda: False)())
        self.started = time.monotonic()
        self._drawn = 0.0
        self.done = 0

    def _line(self) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        rate = self.done / elapsed
        left = (self.total - self.done) / rate if rate else 0
        percent = 100 * self.done / self.total
        return (
            f"{self.label} {_n(self.done)}/{_n(self.total)} {percent:5.1f} % · "
            f"{_n(round(rate))}/s · {_clock(elapsed)} elapsed, {_clock(left)} left"
        )

    def update(self, done: int) -> None:
        self.done = done
        now = time.monotonic()
        if self.interactive and now - self._drawn >= 0.2:
            self._drawn = now
            self.stream.write("\r" + self._line() + "\033[K")
            self.stream.flush()

    def finish(self) -> None:
        self.done = self.total
        prefix = "\r" if self.interactive else ""
        self.stream.write(prefix + self._line() + ("\033[K" if self.interactive else "") + "\n")
        self.stream.flush()
