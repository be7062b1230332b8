"""Schemathesis against the webhook's OpenAPI document, as the local stack serves it (issue 6).

The rule for bad input: never a 5xx, never a state change, always the right 4xx; and every answer conforms to the
document. The schema is loaded from ``GET {PIPELINEJOBS_API_URL}/openapi.json`` of a ``pipelinejobs local`` process
whose table is in the session's DynamoDB Local, and schemathesis runs every operation it lists (its examples,
coverage and fuzzing phases, as ``st run`` does) three ways:

* ``random``: everything generated (uuid, token, paging, status, event, body);
* ``stranger``: the path names a real job, the token is generated or one of a few well-formed wrong ones;
* ``holder``: the real job and its own token, the rest generated (event and status words partly from the FSM's
  vocabulary), so that the 200, 403 and 409 answers are reached and checked against the document too.

After every request the whole table is read (it is small) and compared with the read after the one before: for
``random`` and ``stranger`` nothing may change; for ``holder`` only what the answer says happened (200: the event
applied, the job in the answer's state, or for a duplicate at most the job's ``last_heartbeat``, a repeated
callback's sign of life; 409: the refusal recorded, the state kept; any other answer: nothing).

The runs use schemathesis's engine (what ``st run`` drives) rather than its pytest plugin: the plugin's
``from_fixture``, the only way to test a schema loaded from a server a fixture starts, needs ``Node._nodeid``,
which pytest 9.2 no longer has (schemathesis 4.32.5). Generation is reproducible: a fixed seed, no example
database. What schemathesis found when this was written is fixed: a 500 for POST /events with a non-JSON content
type (before the contract-first webhook), the local adapter's 501 HTML page for TRACE, and a document that gave the
uuid, token and event body formats in prose only (so schema-valid input got 400s: positive_data_acceptance now
holds the document to every format the webhook enforces).
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import time
import uuid as uuidlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
import schemathesis.engine
from localstack_process import Stack, clean_env, running_stack
from schemathesis.engine import Status, events

from pipelinejobs import tokens
from pipelinejobs.storage import annex

SEED = 20260601
#: Fuzzing examples per operation and generation mode (the coverage phase adds its own, deterministic, cases).
MAX_EXAMPLES = 30

#: What every response is held to. Of schemathesis's checks, left out: unsupported_method (API Gateway HTTP APIs
#: answer an unrouted method with 404, never 405), and the stateful and auth checks (no links, no securitySchemes:
#: nothing for them to do).
CHECKS = ["not_a_server_error", "status_code_conformance", "content_type_conformance", "response_schema_conformance",
          "response_headers_conformance", "negative_data_rejection", "positive_data_acceptance"]
#: The right answers to schema-invalid input: malformed (400), unauthorised (401), no such route (404: an empty
#: path segment), too large (413).
REJECTIONS = ["400", "401", "404", "413"]
#: The right answers to schema-valid input: anything but a 400 (the document states every format the webhook
#: enforces) or a 5xx. A valid request may still name a job that is not there or not the token's (401, 404), send
#: an admin's event with a job's token (403), an event the state refuses (409), or data over 32 KiB (413); with a
#: pipeline token, POST /jobs creates a job (201).
ACCEPTANCES = ["200", "201", "401", "403", "404", "409", "413"]
#: Methods the coverage phase sends to each path besides the documented one.
UNEXPECTED_METHODS = ["get", "put", "post", "delete", "options", "patch", "trace"]

#: PipelineJob events (the 15 of the FSM table) and runner status words, offered to the generator beside random text.
EVENTS = ["create", "run", "update", "resource", "fail", "finish", "index", "indexed", "validate", "validated",
          "reject", "finalize", "retire", "reset", "ready"]
STATUSES = ["RUNNING", "running", "FINISHED", "FAILED", "SUCCEEDED", "PENDING", "QUEUED", "KILLED", "STOPPED",
            "HEARTBEAT"]

Key = tuple[str, str]
Snapshot = dict[Key, dict[str, Any]]
#: Judges one request by what the table did around it: a problem, or None.
Accounting = Callable[[schemathesis.Case, schemathesis.Response, Snapshot, Snapshot], str | None]


def schema_config(**extra: Any) -> schemathesis.Config:
    return schemathesis.Config.from_dict({
        "seed": SEED,
        "workers": 1,  # one request at a time: each table read is attributed to the request just answered
        "continue-on-failure": True,
        "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large"],
        "output": {"sanitization": {"enabled": False}},  # the tokens are this run's own: show them, to reproduce
        "generation": {"max-examples": MAX_EXAMPLES, "database": "none"},
        "phases": {"coverage": {"unexpected-methods": UNEXPECTED_METHODS}, "stateful": {"enabled": False}},
        "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS},
                   "negative_data_rejection": {"enabled": True, "expected-statuses": REJECTIONS},
                   "positive_data_acceptance": {"enabled": True, "expected-statuses": ACCEPTANCES}},
        **extra,
    })


def snapshot(stack: Stack) -> Snapshot:
    """Every item of the stack's table, by key, as DynamoDB returns it (strongly consistent)."""
    items: Snapshot = {}
    for page in stack.client("dynamodb").get_paginator("scan").paginate(TableName=stack.env["PIPELINEJOBS_TABLE"],
                                                                        ConsistentRead=True):
        for item in page["Items"]:
            items[(item["pk"]["S"], item["sk"]["S"])] = item
    return items


def changed(before: Snapshot, after: Snapshot) -> set[Key]:
    return {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}


@dataclass
class Run:
    """What one schemathesis run did: requests by answer, check failures, and table changes not accounted for."""

    answers: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    unaccounted: list[str] = field(default_factory=list)

    @property
    def statuses(self) -> set[int]:
        return {status for (_, status) in self.answers}

    def summary(self) -> str:
        lines = [f"{sum(self.answers.values())} requests"]
        lines += [f"  {label} -> {status}: {count}" for (label, status), count in sorted(self.answers.items())]
        return "\n".join(lines)


def run_schemathesis(stack: Stack, config: schemathesis.Config, account: Accounting,
                     map_case: Callable[[schemathesis.Case], None] | None = None, dashboard: bool = True) -> Run:
    """Load the document from the running webhook and run schemathesis over every operation it lists (but the
    dashboard's, read-only and behind a viewer's token, unless ``dashboard``)."""
    schema = schemathesis.openapi.from_url(stack.env["PIPELINEJOBS_API_URL"] + "/openapi.json", config=config)
    if not dashboard:
        schema = schema.exclude(tag="dashboard")
    run = Run()
    last = snapshot(stack)

    @schema.hook("after_call")
    def after_call(_context, case: schemathesis.Case, response: schemathesis.Response) -> None:
        nonlocal last
        after = snapshot(stack)
        run.answers[(f"{case.method} {case.operation.path}", response.status_code)] += 1
        try:
            problem = account(case, response, last, after)
        except Exception as exc:  # an answer the accounting cannot read (not JSON, a field missing) is reported
            problem = f"unreadable answer: {exc!r}"
        if problem:
            run.unaccounted.append(f"{problem}\n    {case.as_curl_command()}\n    -> {response.status_code} "
                                   f"{response.text[:300]}")
        last = after

    if map_case is not None:
        @schema.hook("map_case")
        def mapped(_context, case: schemathesis.Case) -> schemathesis.Case:
            map_case(case)
            return case

    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.FatalError):
            raise event.exception
        if isinstance(event, events.NonFatalError):
            run.failures.append(f"{event.label}: error {event.info.title}: {event.value!r}")
        if isinstance(event, events.ScenarioFinished):
            for nodes in event.recorder.checks.values():
                for node in nodes:
                    if node.status == Status.FAILURE and node.failure_info is not None:
                        failure = node.failure_info.failure
                        run.failures.append(f"{event.recorder.label}: {node.name}: {failure.title}\n"
                                            f"    {failure.message}\n    {node.failure_info.code_sample}")
    if changed(last, snapshot(stack)):
        run.unaccounted.append("the table changed after the last request was answered")
    print(run.summary())
    return run


def assert_clean(run: Run) -> None:
    failures = sorted(set(run.failures))
    assert not failures, f"{len(failures)} schemathesis failures:\n" + "\n".join(failures) + "\n" + run.summary()
    assert not run.unaccounted, "table changes not accounted for:\n" + "\n".join(run.unaccounted)


# ---- the stack and its job -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def stack(dynamodb_local: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("schemathesis-stack"), "--dynamodb-endpoint", dynamodb_local,
                          "--stage", f"st{uuidlib.uuid4().hex[:8]}") as running:
        yield running


@pytest.fixture(scope="module")
def job(stack: Stack) -> dict[str, str]:
    """A job in CREATED with no execution behind it (so nothing but these requests moves it), and its token."""
    pipeline = stack.cli("pipelines", "register", f"st-{uuidlib.uuid4().hex[:6]}", "--task",
                         json.dumps({"launcher": "external"}))["uuid"]
    create = ("import sys; from pipelinejobs.sdk.jobs import PipelineJob; "
              "print(PipelineJob(sys.argv[1], {'sample': 'schemathesis'}).setup().uuid)")
    done = subprocess.run([sys.executable, "-c", create, pipeline], env=clean_env(stack.env), capture_output=True,
                          text=True, timeout=60, check=True)
    uuid = done.stdout.strip()
    return {"uuid": uuid, "token": stack.token(uuid)}


# ---- the runs ------------------------------------------------------------------------------------


#: Operations that answer anyone and hold no job's data (the dashboard's page and its files): a 200 is right.
PUBLIC = {"/ui", "/ui/static/{name}"}


def refused_and_unchanged(case: schemathesis.Case, response: schemathesis.Response, before: Snapshot,
                          after: Snapshot) -> str | None:
    public = case.operation.path in PUBLIC and response.status_code == 200
    if not 400 <= response.status_code < 500 and not public:
        return f"answered {response.status_code}, not a 4xx"
    if changed(before, after):
        return f"changed {sorted(changed(before, after))}"
    return None


def test_random_input_is_refused_with_a_documented_4xx_and_changes_nothing(stack: Stack, job: dict[str, str]):
    """The job is not aimed at here, but it exists meanwhile: a write to it, or to anything, would show."""
    run = run_schemathesis(stack, schema_config(), refused_and_unchanged)

    assert_clean(run)
    assert 400 in run.statuses, run.summary()


def test_a_real_job_without_its_token_is_refused_and_unchanged(stack: Stack, job: dict[str, str]):
    secret = stack.env["PIPELINEJOBS_TOKEN_SECRET"]
    hours_ago = time.time() - 3600 * 73
    wrong = [tokens.job_token(secret, str(uuidlib.uuid4())),  # another job's
             tokens.job_token("not-the-secret", job["uuid"]),  # forged
             tokens.job_token(secret, job["uuid"], at=hours_ago), tokens.admin_token(secret, at=hours_ago),  # expired
             "0" * 16, "f" * 32, job["token"][:15], job["token"] + "0", job["token"].upper()]
    config = schema_config(
        dictionaries={"tokens": {"values": wrong}},
        parameters={"path.uuid": job["uuid"], "query.token": {"dictionary": "tokens", "probability": 0.6}},
    )

    run = run_schemathesis(stack, config, refused_and_unchanged)

    assert_clean(run)
    assert {400, 401} <= run.statuses, run.summary()


def test_the_jobs_token_holder_changes_only_what_the_answer_says(stack: Stack, job: dict[str, str]):
    partition = f"JOB#{job['uuid']}"
    config = schema_config(
        dictionaries={"events": {"values": EVENTS}, "statuses": {"values": STATUSES}},
        parameters={"path.uuid": job["uuid"], "query.token": job["token"],
                    "query.event": {"dictionary": "events", "probability": 0.5},
                    "query.status": {"dictionary": "statuses", "probability": 0.7}},
    )
    next_event = itertools.cycle(EVENTS).__next__

    def aim_events_at_the_job(case: schemathesis.Case) -> None:
        # POST /events takes the whole PipelineJobEvent as its body: point a generated object at the job, with its
        # token, and give it an event unless it names one (other generated keys make it a 400, as they should).
        if case.operation.path == "/events" and isinstance(case.body, dict):
            case.body = {"event": next_event(), **case.body, "uuid": job["uuid"], "token": job["token"]}

    def as_answered(case: schemathesis.Case, response: schemathesis.Response, before: Snapshot,
                    after: Snapshot) -> str | None:
        # The stream function's own items beside a job (its cost estimate, its deliveries: storage/annex.py)
        # follow a change of state asynchronously, whichever request happens to be answered when they land.
        keys = {(pk, sk) for pk, sk in changed(before, after)
                if sk != annex.COST_SK and not sk.startswith(annex.DELIVERY_PREFIX)}
        if before.keys() - after.keys():
            return f"deleted {sorted(before.keys() - after.keys())}"
        if {pk for pk, _ in keys} - {partition}:
            return f"changed items outside the job's partition: {sorted(keys)}"
        job_before, job_after = before[(partition, "JOB")], after[(partition, "JOB")]
        added = [after[key] for key in after.keys() - before.keys()]
        answer = response.json() if response.status_code in (200, 409) and case.method == "POST" else None
        if response.status_code == 200 and answer is not None and not answer["duplicate"]:
            if (job_before["state"]["S"], job_after["state"]["S"]) != (answer["previous_state"], answer["state"]):
                return f"the job went {job_before['state']} -> {job_after['state']}, not as answered"
            entries = [item for item in added if item.get("applied") == {"BOOL": True}]
            if [(item["seq"], item["name"]) for item in entries] != [({"N": str(answer["seq"])},
                                                                      {"S": answer["event"]})]:
                return f"not one history entry {answer['seq']} ({answer['event']}) added, but {entries}"
            return None
        if response.status_code == 200 and answer is not None:  # a duplicate: at most a heartbeat is written
            moved = {name for name in job_before.keys() | job_after.keys()
                     if job_before.get(name) != job_after.get(name)}
            if keys - {(partition, "JOB")} or moved - {"last_heartbeat"}:
                return f"a duplicate changed {sorted(keys)} (job fields {sorted(moved)}), not only last_heartbeat"
            return None
        if response.status_code == 409 and answer is not None:
            if job_after["state"] != job_before["state"] or answer["state"] != job_before["state"]["S"]:
                return f"a refusal moved the job {job_before['state']} -> {job_after['state']}"
            if any(item.get("applied") == {"BOOL": True} for item in added):
                return f"a refusal added an applied entry: {added}"
            return None
        return f"answered {response.status_code} but changed {sorted(keys)}" if keys else None

    run = run_schemathesis(stack, config, as_answered, map_case=aim_events_at_the_job)

    assert_clean(run)
    assert {200, 400, 403, 409} <= run.statuses, run.summary()


def test_a_pipeline_token_holder_creates_only_the_jobs_the_answers_name(stack: Stack):
    """POST /jobs with a pipeline token in the header (every other route gets it too): a 201 adds the answered
    job and its first history entry and nothing else; any other answer changes nothing."""
    name = f"st-outside-{uuidlib.uuid4().hex[:6]}"
    pipeline = stack.cli("pipelines", "register", name, "--task", json.dumps({"launcher": "external"}))["uuid"]
    token = stack.cli("token", "pipeline", name)["token"]
    names = itertools.cycle([name, pipeline]).__next__

    def with_the_token(case: schemathesis.Case) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
        body = case.body
        if case.operation.path == "/jobs" and isinstance(body, dict) and isinstance(body.get("pipeline"), str) \
                and 1 <= len(body["pipeline"]) <= 256:  # a valid name stays valid: negative cases stay negative
            case.body = {**body, "pipeline": names()}

    def as_answered(case: schemathesis.Case, response: schemathesis.Response, before: Snapshot,
                    after: Snapshot) -> str | None:
        keys = changed(before, after)
        if response.status_code == 201:
            uuid = response.json()["uuid"]
            expected = {(f"JOB#{uuid}", "JOB"), (f"JOB#{uuid}", "EV#000000000001")}
            return None if keys == expected and not before.keys() & expected else f"201 but changed {sorted(keys)}"
        if case.method == "POST" and case.operation.path != "/jobs" and response.status_code in (200, 409):
            target = (case.path_parameters or {}).get("uuid") or case.body["uuid"]  # a 409 body names no job
            if not before.keys() - after.keys() and {pk for pk, _ in keys} <= {f"JOB#{target}"}:
                return None  # the token moved (or had refused) one of the jobs it created: only that job changed
        return f"answered {response.status_code} but changed {sorted(keys)}" if keys else None

    # The dashboard's reads answer a pipeline token 401 whatever else is sent: the random and stranger runs hold
    # them to the document already, and this run's time goes to the routes that token can use.
    run = run_schemathesis(stack, schema_config(), as_answered, map_case=with_the_token, dashboard=False)

    assert_clean(run)
    assert {201, 400} <= {status for (label, status) in run.answers if label == "POST /jobs"}, run.summary()
