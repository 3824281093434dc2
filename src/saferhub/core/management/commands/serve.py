"""`saferhub serve`: the development server with the task worker and the scheduler beside it
(what `make run` starts). Stopping it, with Ctrl-C or a signal, stops all three."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.core.management.base import BaseCommand

STOP_WAIT_SECONDS = 10


class Command(BaseCommand):
    help = "Run the development server, the django-tasks database worker and the retention scheduler together."

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000", help="Address and port to serve on")
        parser.add_argument("--no-worker", action="store_true", help="Serve without the task worker and scheduler")

    def handle(self, *args, addrport: str, no_worker: bool, **options):
        saferhub = [sys.executable, "-m", "saferhub"]
        commands = {"server": [*saferhub, "runserver", addrport]}
        if not no_worker:
            # --no-reload: the worker's reloader would leave its child running when told to stop.
            commands["task worker"] = [*saferhub, "db_worker", "--no-reload", "--interval", "5", "--verbosity", "1"]
            commands["scheduler"] = [*saferhub, "scheduler"]
        stopping = []

        def stop(signum, frame):
            stopping.append(signum)

        previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
        # Each in its own session, so only this command decides when they stop; a Ctrl-C in the
        # terminal reaches it and it stops them in turn.
        processes = {name: subprocess.Popen(command, start_new_session=True) for name, command in commands.items()}
        reported = set()
        try:
            while not stopping:
                if processes["server"].poll() is not None:
                    break
                for name, process in processes.items():
                    if name != "server" and name not in reported and process.poll() is not None:
                        reported.add(name)
                        self.stderr.write(f"The {name} stopped (exit status {process.returncode}); the server carries on without it")
                time.sleep(0.5)
        finally:
            self._stop_all(processes)
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        code = processes["server"].returncode
        if not stopping and code:
            sys.exit(code)

    def _stop_all(self, processes: dict[str, subprocess.Popen]) -> None:
        """Ask each process group to stop (the server's reloader has a child); kill what lingers."""
        for process in processes.values():
            self._signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + STOP_WAIT_SECONDS
        for process in processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self._signal_group(process, signal.SIGKILL)
                process.wait()

    @staticmethod
    def _signal_group(process: subprocess.Popen, signum: int) -> None:
        try:
            os.killpg(process.pid, signum)
        except ProcessLookupError:
            pass
