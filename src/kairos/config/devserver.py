"""``make run``: start the web server, the background worker and the periodic jobs together; Ctrl-C
stops them all.

Prints the URL and (dev mode) the demo logins first. Each child leads its own process group, so
stopping it also stops its own children (runserver's autoreloader). The periodic jobs
(``manage.py measures_tick``: questionnaire reminders, due/expired measurements, alert re-notification)
and the signed audit checkpoints (``manage.py audit_checkpoint``: writes one into
``KAIROS_AUDIT_CHECKPOINT_DIR`` when ``KAIROS_AUDIT_CHECKPOINT_MINUTES`` have passed) run from a thread
here every ``KAIROS_TICK_SECONDS``; in production run those commands from cron or a systemd timer.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
HOST = os.environ.get("KAIROS_HOST", "127.0.0.1")
PORT = os.environ.get("KAIROS_PORT", "8000")


def _signal_group(child: subprocess.Popen[bytes], sig: int) -> None:
    try:
        os.killpg(child.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kairos.config.settings")
    from kairos.accounts.demo_logins import DEMO_USERS

    python = sys.executable
    manage = str(ROOT / "manage.py")
    tick_seconds = max(5, int(os.environ.get("KAIROS_TICK_SECONDS", "60")))
    sys.stdout.write(
        f"\nKairos is starting at http://{HOST}:{PORT}/\n\n"
        "Demo logins (development mode only; password: kairos-demo):\n"
        + "".join(f"  {u:<18} {label}\n" for u, label in DEMO_USERS)
        + "\nWeb server, background worker and periodic jobs are running. Press Ctrl-C to stop them all.\n\n"
    )
    sys.stdout.flush()

    def spawn(cmd: list[str]) -> subprocess.Popen[bytes]:
        return subprocess.Popen(cmd, start_new_session=True)

    children = [
        spawn([python, manage, "runserver", f"{HOST}:{PORT}"]),
        spawn([python, manage, "db_worker", "--interval", "1", "--no-reload"]),
    ]
    stopping = threading.Event()

    def ticker() -> None:
        while not stopping.wait(tick_seconds):
            for job in ("measures_tick", "audit_checkpoint"):
                subprocess.run([python, manage, job, "-v", "0"], check=False, start_new_session=True)

    threading.Thread(target=ticker, daemon=True).start()

    def on_signal(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)  # also when started with SIGINT ignored (background jobs)
    try:
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    stopping.set()
    for child in children:
        _signal_group(child, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(child.poll() is None for child in children):
        time.sleep(0.2)
    for child in children:
        _signal_group(child, signal.SIGKILL)
        child.wait()
    sys.stdout.write("Kairos stopped (web server, worker and periodic jobs).\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
