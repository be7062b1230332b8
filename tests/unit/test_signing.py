"""Issue 14 item 5: the signature header, the per-job signing key, and the documented recipe."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from pipelinejobs import signing

ROOT = Path(__file__).resolve().parents[2]
RECIPE = ROOT / "docs" / "examples" / "verify_signature.py"


def verify():
    spec = importlib.util.spec_from_file_location("verify_signature", RECIPE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.verify


def test_the_operations_page_shows_the_recipe_the_tests_run():
    assert RECIPE.read_text() in (ROOT / "docs" / "operations.md").read_text()


def test_each_job_has_its_own_key_derived_from_the_secret():
    key = signing.signing_key("secret", "job-1")
    assert key == signing.signing_key("secret", "job-1") and len(key) == 64
    assert key not in (signing.signing_key("secret", "job-2"), signing.signing_key("rotated", "job-1"))


def test_a_signature_verifies_once_and_only_for_its_body_key_and_time():
    key, body = signing.signing_key("secret", "job-1"), b'{"uuid": "job-1", "to": "FINISHED"}'
    header = signing.signature(key, body, at=1_800_000_000)
    assert header.startswith("t=1800000000,v1=")
    check = verify()
    assert check(key, header, body, now=1_800_000_000 + 299)
    assert not check(key, header, body, now=1_800_000_000 + 301)  # older than 5 minutes
    assert not check(key, header, body + b" ", now=1_800_000_000)
    assert not check(signing.signing_key("secret", "job-2"), header, body, now=1_800_000_000)
    assert not check(key, "v1=abc", body) and not check(key, "garbage", body)
