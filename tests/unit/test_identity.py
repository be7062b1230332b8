"""Deterministic identities: same inputs, same uuid; any difference, a different one."""

from __future__ import annotations

import uuid

from pipelinejobs import identity

PIPE = "8a5c9bbb-c2a1-5a4d-8582-a405913c287f"


def test_job_uuid_ignores_key_order_and_parent_order():
    a = identity.job_uuid(PIPE, {"x": 1, "y": {"b": 2, "a": 1}}, ["p2", "p1"])
    b = identity.job_uuid(PIPE, {"y": {"a": 1, "b": 2}, "x": 1}, ["p1", "p2"])
    assert a == b and uuid.UUID(a).version == 5


def test_job_uuid_changes_with_any_input():
    base = identity.job_uuid(PIPE, {"x": 1})
    assert base != identity.job_uuid(PIPE, {"x": 2})
    assert base != identity.job_uuid(PIPE, {"x": 1}, ["parent"])
    assert base != identity.job_uuid("9a5c9bbb-c2a1-5a4d-8582-a405913c287f", {"x": 1})


def test_pipeline_uuid_is_name_and_components():
    assert identity.pipeline_uuid("p", ["a", "b"]) == identity.pipeline_uuid("p", ["a", "b"])
    assert identity.pipeline_uuid("p", ["a"]) != identity.pipeline_uuid("p", ["b"])
    assert identity.pipeline_uuid("p") != identity.pipeline_uuid("q")


def test_paths_never_collide_between_jobs():
    jobs = {identity.job_uuid(PIPE, {"n": n}) for n in range(100)}
    assert len({identity.job_path(PIPE, j) for j in jobs}) == 100
    assert identity.job_path(PIPE, "j") == f"/products/v2/{PIPE}/j"


def test_shards_spread_jobs():
    shards = [identity.shard(identity.job_uuid(PIPE, {"n": n})) for n in range(800)]
    assert set(shards) == set(range(8))
    assert max(shards.count(s) for s in set(shards)) < 150  # no shard takes much over its 100
