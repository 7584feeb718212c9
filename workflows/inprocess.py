"""Workers inside the web process, for the embedded mode (in-memory broker)."""

from __future__ import annotations

import threading

import dramatiq

from workflows.actors import broker
from workflows.schedule import start_scheduler


class InProcessWorkers:
    def __init__(self, threads: int = 2) -> None:
        self._worker = dramatiq.Worker(broker, worker_threads=threads)
        self._stop = threading.Event()

    def start(self) -> None:
        self._worker.start()
        start_scheduler(self._stop)

    def stop(self) -> None:
        self._stop.set()
        self._worker.stop()
