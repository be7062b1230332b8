"""A workflow spec: read (YAML, JSON or a dict), checked, and named.

Checks run in this order, every fault of a stage reported at once (``InvalidWorkflow``, each entry naming
the job and the field, e.g. ``jobs.align.after``), and all before anything is written:

1. the JSON Schema shipped beside this module (``workflow.schema.json``), with ``jsonschema``;
2. the graph: an ``after`` naming no job, a cycle, a malformed ``${...}``, a reference to an input that is
   not there, to ``${item}`` outside a fan-out, or to a job that is not upstream (not reachable through
   ``after``), and ``each`` that is not a list (a literal, or one ``${...}`` naming a list);
3. the pipelines (:func:`check_pipelines`, which reads them): each must be registered, active and have a
   task template that this job's ``overrides`` complete.

The workflow's uuid is a uuid5 of the canonical JSON (sorted keys, compact) of the spec with its defaults
filled in, so a YAML file and a dict with the same content name the same workflow, and submitting it again
is get-or-create, like a job's ``setup()``.
"""

from __future__ import annotations

import json
import uuid as _uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from .. import identity
from ..errors import InvalidEvent, InvalidTaskSpec, InvalidWorkflow, PipelineNotFound
from ..events import compact_json
from ..orchestration.spec import TaskSpec
from ..records import PipelineRecord
from ..storage import JobStore
from . import refs

#: Largest spec accepted, as compact JSON: it is stored whole on the workflow's item (400 KB at most).
MAX_SPEC_BYTES = 256 * 1024
ON_FAILURE = ("stop", "continue")


@dataclass(frozen=True)
class JobSpec:
    """One named job of a workflow (one job, or one per item when it has ``each``)."""

    name: str
    pipeline: str
    after: tuple[str, ...] = ()
    each: Any = None
    data: dict[str, Any] = field(default_factory=dict)
    overrides: dict[str, Any] | None = None

    @property
    def fanned_out(self) -> bool:
        return self.each is not None

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"pipeline": self.pipeline, "after": list(self.after), "data": self.data}
        if self.each is not None:
            body["each"] = self.each
        if self.overrides is not None:
            body["overrides"] = self.overrides
        return body


@dataclass(frozen=True)
class WorkflowSpec:
    name: str
    jobs: dict[str, JobSpec]
    inputs: dict[str, Any] = field(default_factory=dict)
    on_failure: str = "stop"
    max_concurrency: int | None = None
    description: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The spec with its defaults filled in: what the uuid is computed on, and what is stored."""
        body = {"name": self.name, "inputs": self.inputs, "on_failure": self.on_failure,
                "jobs": {name: job.to_dict() for name, job in self.jobs.items()}}
        if self.max_concurrency is not None:
            body["max_concurrency"] = self.max_concurrency
        if self.description:
            body["description"] = self.description
        return body

    @property
    def uuid(self) -> str:
        return str(_uuid.uuid5(identity.NAMESPACE, compact_json({"workflow": self.to_dict()})))

    def children(self, name: str) -> list[str]:
        """The jobs that run after ``name``, in the spec's order."""
        return [other for other, job in self.jobs.items() if name in job.after]

    def upstream(self, name: str) -> set[str]:
        """Every job ``name`` runs after, directly or not."""
        seen: set[str] = set()
        pending = list(self.jobs[name].after)
        while pending:
            current = pending.pop()
            if current not in seen and current in self.jobs:
                seen.add(current)
                pending.extend(self.jobs[current].after)
        return seen

    @classmethod
    def from_dict(cls, body: Mapping[str, Any]) -> WorkflowSpec:
        """A spec from its (schema-valid) dict, unchecked: :func:`load` checks."""
        jobs = {name: JobSpec(name=name, pipeline=job["pipeline"], after=tuple(job.get("after") or ()),
                              each=job.get("each"), data=dict(job.get("data") or {}), overrides=job.get("overrides"))
                for name, job in body["jobs"].items()}
        return cls(name=body["name"], jobs=jobs, inputs=dict(body.get("inputs") or {}),
                   on_failure=body.get("on_failure", "stop"), max_concurrency=body.get("max_concurrency"),
                   description=body.get("description", ""))


@cache
def schema() -> dict[str, Any]:
    """The workflow JSON Schema shipped in the package (``pipelinejobs/workflows/workflow.schema.json``)."""
    return json.loads(resources.files(__package__).joinpath("workflow.schema.json").read_text())


@cache
def _validator():
    from jsonschema import Draft202012Validator

    return Draft202012Validator(schema())


def read(source: str | Path | Mapping[str, Any]) -> dict[str, Any]:
    """The spec as a dict: a mapping as it is; a path (a ``Path``, or a string naming an existing file) or
    YAML/JSON text parsed (JSON is YAML, so one parser reads both)."""
    if isinstance(source, Mapping):
        return dict(source)
    import yaml

    try:
        if isinstance(source, Path) or _is_file(source):
            with Path(source).open() as stream:  # parsed from the file, so an error names it (not <unicode string>)
                body = yaml.safe_load(stream)
        else:
            body = yaml.safe_load(source)
    except yaml.YAMLError as exc:
        raise InvalidWorkflow.single("spec", f"is neither YAML nor JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise InvalidWorkflow.single("spec", "must be an object (name, jobs, ...)")
    return body


def _is_file(text: str) -> bool:
    try:
        return "\n" not in text and Path(text).is_file()
    except OSError:  # a name too long for the file system is text
        return False


def load(source: str | Path | Mapping[str, Any]) -> WorkflowSpec:
    """Read and check a spec (schema, then graph; not the pipelines: :func:`check_pipelines`)."""
    body = read(source)
    try:
        size = len(compact_json(body).encode())
    except (TypeError, ValueError) as exc:
        raise InvalidWorkflow.single("spec", f"is not JSON: {exc}") from exc
    if size > MAX_SPEC_BYTES:
        raise InvalidWorkflow.single("spec", f"is {size} bytes as compact JSON; the limit is {MAX_SPEC_BYTES}")
    problems = [{"field": ".".join(map(str, error.absolute_path)) or "spec", "problem": error.message}
                for error in _validator().iter_errors(body)]
    if problems:
        raise InvalidWorkflow(problems)
    spec = WorkflowSpec.from_dict(body)
    problems = graph_problems(spec)
    if problems:
        raise InvalidWorkflow(problems)
    return spec


def graph_problems(spec: WorkflowSpec) -> list[dict[str, str]]:
    """What is wrong with the graph and its references (see the module doc), as ``{"field", "problem"}``."""
    problems: list[dict[str, str]] = []
    for name, job in spec.jobs.items():
        for parent in job.after:
            if parent not in spec.jobs:
                problems.append({"field": f"jobs.{name}.after", "problem": f"names no job '{parent}'"})
    cycle = _cycle(spec)
    if cycle:
        problems.append({"field": f"jobs.{cycle[0]}.after", "problem": f"makes a cycle: {' -> '.join(cycle)}"})
        return problems  # upstream sets mean nothing in a cycle
    for job in spec.jobs.values():
        problems += _reference_problems(spec, job, "data", job.data)
        if job.each is not None:
            problems += _each_problems(spec, job)
    return problems


def _cycle(spec: WorkflowSpec) -> list[str] | None:
    """One cycle through ``after`` (its names, the first repeated at the end), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(name: str, path: list[str]) -> list[str] | None:
        state[name] = 1
        for parent in spec.jobs[name].after:
            if parent not in spec.jobs:
                continue
            if state.get(parent) == 1:
                return [*path[path.index(parent):], parent] if parent in path else [name, parent]
            if parent not in state:
                found = visit(parent, [*path, parent])
                if found:
                    return found
        state[name] = 2
        return None

    for name in spec.jobs:
        if name not in state:
            found = visit(name, [name])
            if found:
                return found
    return None


def _reference_problems(spec: WorkflowSpec, job: JobSpec, where: str, value: Any) -> list[dict[str, str]]:
    field_name = f"jobs.{job.name}.{where}"
    try:
        found = list(refs.references(value))
    except refs.BadReference as exc:
        return [{"field": field_name, "problem": str(exc)}]
    problems = []
    upstream = spec.upstream(job.name)
    for ref in found:
        problem = None
        if ref.root == "inputs":
            try:
                refs.walk(spec.inputs, ref.path, "inputs")
            except refs.BadReference as exc:
                problem = f"${{{ref.text}}}: {exc}"
        elif ref.root == "item":
            if job.each is None or where == "each":
                problem = f"${{{ref.text}}}: only the data of a job with 'each' has an item"
        elif ref.root not in spec.jobs:
            problem = f"${{{ref.text}}} names no job '{ref.root}'"
        elif ref.root not in upstream:
            problem = (f"${{{ref.text}}}: '{ref.root}' is not upstream of '{job.name}' (add it to after, directly "
                       "or through another job), so its outputs would not exist yet")
        if problem:
            problems.append({"field": field_name, "problem": problem})
    return problems


def _each_problems(spec: WorkflowSpec, job: JobSpec) -> list[dict[str, str]]:
    field_name = f"jobs.{job.name}.each"
    if isinstance(job.each, list):
        return _reference_problems(spec, job, "each", job.each)
    try:
        ref = refs.whole(job.each)
    except refs.BadReference as exc:
        return [{"field": field_name, "problem": str(exc)}]
    if ref is None:
        return [{"field": field_name, "problem": "must be a list, or exactly one ${...} naming a list"}]
    problems = _reference_problems(spec, job, "each", job.each)
    if not problems and ref.root == "inputs":
        value = refs.walk(spec.inputs, ref.path, "inputs")
        if not isinstance(value, list):
            problems.append({"field": field_name,
                             "problem": f"${{{ref.text}}} is {_kind(value)}, not a list: each fans out over a list"})
    return problems


def _kind(value: Any) -> str:
    names = {dict: "an object", str: "a string", bool: "a boolean", int: "a number", float: "a number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def check_pipelines(spec: WorkflowSpec, store: JobStore) -> dict[str, PipelineRecord]:
    """Each job's pipeline (by name or uuid): registered, active, with a task template this job's overrides
    complete. Returns them by job name; InvalidWorkflow naming ``jobs.<name>.pipeline`` (or ``.overrides``)."""
    from ..creation import pipeline_for

    found: dict[str, PipelineRecord] = {}
    problems: list[dict[str, str]] = []
    for name, job in spec.jobs.items():
        try:
            pipeline = pipeline_for(job.pipeline, store)
        except PipelineNotFound as exc:
            problems.append({"field": f"jobs.{name}.pipeline", "problem": f"'{job.pipeline}' {exc.reason}: "
                                                                         "register it first"})
            continue
        except InvalidEvent as exc:  # a name several active pipelines share
            problems += [{"field": f"jobs.{name}.pipeline", "problem": e["problem"]} for e in exc.errors]
            continue
        if not pipeline.task:
            problems.append({"field": f"jobs.{name}.pipeline",
                             "problem": f"pipeline '{job.pipeline}' has no task template, so its jobs cannot be run"})
            continue
        try:
            TaskSpec.resolve(pipeline.task, job.overrides)
        except InvalidTaskSpec as exc:
            problems += [{"field": f"jobs.{name}.overrides.{e['field']}", "problem": e["problem"]}
                         for e in exc.errors]
            continue
        found[name] = pipeline
    if problems:
        raise InvalidWorkflow(problems)
    return found
