"""The ``kairos`` command: lazy subcommands, exit codes, pure commands never set up Django."""

from __future__ import annotations

import subprocess
import sys

import pytest

from kairos.cli.main import COMMANDS, main


def test_help_lists_every_command(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in COMMANDS)


def test_unknown_command_and_no_command_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["nonsense"])
    assert exc.value.code == 2
    assert main([]) == 2


@pytest.mark.parametrize(
    "argv",
    [
        ["score", "phq9", "1", "2", "3", "0", "1", "0", "2", "3", "0", "--json"],
        ["plan", "esketamine-trd", "--start", "2026-01-05", "--json"],
        [
            "pk",
            "--model",
            "perez-ruixo-2021",
            "--route",
            "intranasal",
            "--dose",
            "56",
            "--times",
            "0,30,60",
            "--json",
        ],
    ],
)
def test_pure_commands_never_import_django(argv):
    code = (
        f"import sys; from kairos.cli.main import main; rc = main({argv!r}); "
        "sys.exit(3 if any(m == 'django' or m.startswith('django.') for m in sys.modules) else rc)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr or "django was imported"
