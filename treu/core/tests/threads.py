"""Running work in many threads at once, for the PostgreSQL concurrency tests."""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import connection


def all_at_once(n: int, work: Callable[[], object]) -> list[object]:
    """Run `work` in n threads released together; each result or exception, in any order."""
    barrier = threading.Barrier(n)
    results: list[object] = []

    def run():
        try:
            barrier.wait()
            results.append(work())
        except Exception as error:  # noqa: BLE001 - collected and checked by the test
            results.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results
