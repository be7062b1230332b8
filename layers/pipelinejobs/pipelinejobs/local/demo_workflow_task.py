"""The demo workflow's tasks, run by the local launcher as ``python -m pipelinejobs.local.demo_workflow_task STEP``.

Each reads its job's data (resolved by the workflow from upstream outputs) with the SDK, as a task on the
local stack can (it inherits the stack's environment), and reports its outputs the local launcher's way: a
JSON object written to the file ``$PIPELINEJOBS_OUTPUTS`` names (docs/workflows.md, "Outputs").

* ``generate``: writes ``data.count`` files of pseudo-random bytes; outputs ``{"files": [path, ...]}``.
* ``checksum``: SHA-256 of ``data.file``; outputs ``{"file", "sha256", "bytes"}``. Exits 3 on its first
  attempt if the file's name is ``data.fail_once_on``, to show a retry inside a workflow.
* ``report``: checks that ``data.files`` and ``data.checksums`` (the checksum jobs' outputs, in item order)
  pair up, writes them as ``sha256sum`` lines; outputs ``{"report": path, "files": n}``.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

from .demo_task import generate


def data() -> dict[str, Any]:
    """This job's data, read from its record."""
    from .. import get_job

    return get_job(os.environ["PIPELINEJOBS_JOB_UUID"]).data


def workdir() -> Path:
    """The attempt's own directory (where the launcher keeps its stdout, and the outputs file)."""
    return Path(os.environ["PIPELINEJOBS_OUTPUTS"]).parent


def report_outputs(outputs: dict[str, Any]) -> None:
    Path(os.environ["PIPELINEJOBS_OUTPUTS"]).write_text(json.dumps(outputs))
    print(json.dumps(outputs))


def step_generate(given: dict[str, Any]) -> int:
    files = []
    for number in range(1, int(given["count"]) + 1):
        path = workdir() / f"file-{number}.bin"
        generate(path, int(given.get("size_kib", 256)) * 1024, f"{os.environ['PIPELINEJOBS_JOB_UUID']}:{number}")
        files.append(str(path))
    report_outputs({"files": files})
    return 0


def step_checksum(given: dict[str, Any]) -> int:
    path = Path(given["file"])
    if path.name == given.get("fail_once_on") and os.environ.get("PIPELINEJOBS_ATTEMPT") == "1":
        print(f"failing on purpose on attempt 1 for {path.name}", file=sys.stderr)
        return 3
    content = path.read_bytes()
    report_outputs({"file": str(path), "sha256": hashlib.sha256(content).hexdigest(), "bytes": len(content)})
    return 0


def step_report(given: dict[str, Any]) -> int:
    files, checksums = given["files"], given["checksums"]
    if len(files) != len(checksums):
        print(f"{len(files)} files but {len(checksums)} checksums", file=sys.stderr)
        return 4
    report = workdir() / "checksums.sha256"
    report.write_text("".join(f"{checksum}  {Path(file).name}\n" for file, checksum in zip(files, checksums,
                                                                                            strict=True)))
    report_outputs({"report": str(report), "files": len(files)})
    return 0


STEPS = {"generate": step_generate, "checksum": step_checksum, "report": step_report}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1 or argv[0] not in STEPS:
        print(f"usage: demo_workflow_task {{{','.join(STEPS)}}}", file=sys.stderr)
        return 2
    given = data()
    print(f"job {os.environ['PIPELINEJOBS_JOB_UUID']}, attempt {os.environ.get('PIPELINEJOBS_ATTEMPT')}: "
          f"{argv[0]} {json.dumps(given)}", flush=True)
    return STEPS[argv[0]](given)


if __name__ == "__main__":
    sys.exit(main())
