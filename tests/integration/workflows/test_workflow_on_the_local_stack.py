"""``pipelinejobs local`` runs workflows: its template's WorkflowsFunction is served in process and fed by the
stack's stream poller (the mapping's filter), and local tasks report outputs through PIPELINEJOBS_OUTPUTS."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from localstack_process import clean_env, running_stack

from pipelinejobs.local import discovery

SCRIPT = r"""
import json, sys, time
import pipelinejobs
from pipelinejobs import workflows

emit = ("import json, os; json.dump({'job': os.environ['PIPELINEJOBS_JOB_UUID']}, "
        "open(os.environ['PIPELINEJOBS_OUTPUTS'], 'w'))")
pipelinejobs.register_pipeline("emit", task={"launcher": "local", "params": {"command": [sys.executable, "-c", emit]},
                                             "poll": {"first": 1, "factor": 1, "cap": 1}})
wf = workflows.submit({"name": "local", "inputs": {"n": [1, 2]}, "jobs": {
    "a": {"pipeline": "emit"},
    "b": {"pipeline": "emit", "after": ["a"], "each": "${inputs.n}", "data": {"n": "${item}"}},
    "c": {"pipeline": "emit", "after": ["b"], "data": {"from": "${b.outputs.job}", "root": "${a.outputs.job}"}},
}})
deadline = time.monotonic() + 180
while (done := workflows.get(wf.uuid)).state == "RUNNING" and time.monotonic() < deadline:
    time.sleep(0.5)
[c] = done.jobs["c"]
print(json.dumps({"state": done.state, "counts": done.counts, "jobs": done.jobs,
                  "c": pipelinejobs.get_job(c).record.data}))
"""


def test_the_local_stack_runs_a_workflow_whose_local_tasks_report_outputs(tmp_path: Path):
    with running_stack(tmp_path / "stack") as stack:
        env = clean_env({**stack.env, discovery.STATE_FILE_ENV: str(stack.state_file)})
        ran = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=300)
        assert ran.returncode == 0, ran.stderr[-4000:] + stack.output.read_text()[-4000:]
        result = json.loads(ran.stdout.splitlines()[-1])

    assert result["state"] == "FINISHED", result
    assert result["counts"] == {"FINISHED": 4}
    assert result["c"] == {"from": result["jobs"]["b"], "root": result["jobs"]["a"][0]}
