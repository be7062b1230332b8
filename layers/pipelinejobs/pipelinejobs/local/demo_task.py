"""The demo pipeline's task: generate a file and checksum it, as a pipeline step would.

Run by the local launcher as ``python -m pipelinejobs.local.demo_task``. It works in the
attempt's own directory (``$PIPELINEJOBS_LOCAL_DIR/<job>/<attempt>``, where the launcher keeps
its stdout and stderr), writes ``data.bin`` and ``data.bin.sha256`` (``sha256sum`` format),
and can be told to fail on a given attempt (``--fail-on-attempt``, read against
``PIPELINEJOBS_ATTEMPT``) or to keep running (``--sleep``), to show retries and kill.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from pathlib import Path

FILE_NAME = "data.bin"


def generate(path: Path, size: int, seed: str) -> str:
    """Write ``size`` deterministic pseudo-random bytes (SHA-256 in counter mode); their SHA-256."""
    digest = hashlib.sha256()
    with path.open("wb") as out:
        for counter in range(0, size, 32):
            block = hashlib.sha256(f"{seed}:{counter}".encode()).digest()[:size - counter]
            out.write(block)
            digest.update(block)
    return digest.hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="demo_task")
    parser.add_argument("--size-kib", type=int, default=1024)
    parser.add_argument("--fail-on-attempt", type=int, default=0, help="exit 3 on this attempt (0: never)")
    parser.add_argument("--sleep", type=float, default=0.0, help="seconds to work before checksumming")
    args = parser.parse_args(argv)
    job, attempt = os.environ.get("PIPELINEJOBS_JOB_UUID", "no-job"), int(os.environ.get("PIPELINEJOBS_ATTEMPT", "1"))
    print(f"job {job}, attempt {attempt}", flush=True)
    if attempt == args.fail_on_attempt:
        print(f"failing on purpose on attempt {attempt}", file=sys.stderr)
        return 3
    time.sleep(args.sleep)
    directory = Path(os.environ.get("PIPELINEJOBS_LOCAL_DIR", ".")) / job / str(attempt)
    directory.mkdir(parents=True, exist_ok=True)
    checksum = generate(directory / FILE_NAME, args.size_kib * 1024, job)
    (directory / f"{FILE_NAME}.sha256").write_text(f"{checksum}  {FILE_NAME}\n")
    assert hashlib.sha256((directory / FILE_NAME).read_bytes()).hexdigest() == checksum  # read back: it was written
    print(f"{checksum}  {directory / FILE_NAME} ({args.size_kib} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
