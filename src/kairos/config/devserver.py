"""``make run``: start the web server and the background worker together; Ctrl-C stops both.

Prints the URL and (dev mode) the demo logins first. Both children share our process group, so a
terminal Ctrl-C reaches them directly; we also forward SIGTERM and stop the survivor if one exits.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
HOST = os.environ.get("KAIROS_HOST", "127.0.0.1")
PORT = os.environ.get("KAIROS_PORT", "8000")


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kairos.config.settings")
    from kairos.accounts.views import DEMO_USERS

    python = sys.executable
    manage = str(ROOT / "manage.py")
    sys.stdout.write(
        f"\nKairos is starting at http://{HOST}:{PORT}/\n\n"
        "Demo logins (development mode only; password: kairos-demo):\n"
        + "".join(f"  {u:<18} {label}\n" for u, label in DEMO_USERS)
        + "\nWeb server, background worker and periodic jobs are running. Press Ctrl-C to stop them all.\n\n"
    )
    sys.stdout.flush()
    tick = os.environ.get("KAIROS_TICK_SECONDS", "60")
    children = [
        subprocess.Popen([python, manage, "runserver", f"{HOST}:{PORT}"]),
        subprocess.Popen([python, manage, "db_worker", "--interval", "1", "--no-reload"]),
        # periodic jobs (questionnaire reminders, due/expired measurements, alert re-notification);
        # in production run `manage.py measures_tick` from cron or a systemd timer instead
        subprocess.Popen(
            [
                "/bin/sh",
                "-c",
                f'while true; do "{python}" "{manage}" measures_tick -v 0 || true; sleep {int(tick)}; done',
            ]
        ),
    ]

    def stop(*_: object) -> None:
        for child in children:
            if child.poll() is None:
                child.terminate()

    signal.signal(signal.SIGTERM, stop)
    try:
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    stop()
    for child in children:
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
    sys.stdout.write("Kairos stopped (web server and worker).\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
