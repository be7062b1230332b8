"""scripts/test as CI and people run it (the README's second command)."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_scripts_test_exits_with_pytests_status_as_soon_as_pytest_returns(tmp_path: Path):
    """Once pytest has printed its summary, the process ends: the interpreter's clean-up (atexit handlers,
    joining threads, freeing the session's heap: ~80 s after a full run) is skipped, so an atexit handler
    registered by a test never runs, and the exit status is pytest's."""
    cleaned_up = tmp_path / "cleaned-up"
    (tmp_path / "test_probe.py").write_text(
        f"import atexit, pathlib\natexit.register(pathlib.Path({str(cleaned_up)!r}).touch)\n\n\n"
        "def test_fails():\n    assert 1 == 2\n")

    done = subprocess.run([str(ROOT / "scripts" / "test"), str(tmp_path / "test_probe.py"), "-p", "no:cacheprovider"],
                          capture_output=True, text=True, timeout=600)

    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    assert "1 failed" in done.stdout.splitlines()[-1]
    assert not cleaned_up.exists()
