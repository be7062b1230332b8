"""``engines.access.pipeline_for``: the check every engine route makes first (issue 12, item 4).

The refusals run with no table at all: a read would fail with a storage error, so a 401 shows the token was
refused before anything was read.
"""

from __future__ import annotations

import uuid

import pytest
from hostile import bad_pipeline_tokens
from moto import mock_aws

import pipelinejobs as pj
from pipelinejobs import tokens
from pipelinejobs.engines import access
from pipelinejobs.errors import InvalidEvent, PipelineNotFound, Unauthorized
from pipelinejobs.service import BAD_TOKEN

OTHER = "8a5c9bbb-c2a1-5a4d-8582-a405913c287f"


@pytest.fixture
def pipeline(aws_env):
    with mock_aws():
        pj.create_tables()
        yield pj.register_pipeline("engine-access", components=["snakemake"])


def test_a_pipeline_token_for_the_pipeline_opens_it(aws_env, pipeline):
    token = tokens.pipeline_token(aws_env.token_secret, pipeline.uuid, hours=2)
    found = access.pipeline_for(pipeline.uuid, token, pj.Config.from_env())
    assert (found.uuid, found.name) == (pipeline.uuid, "engine-access")


def test_forged_expired_malformed_and_other_pipelines_tokens_are_one_401_before_any_read(aws_env):
    pipeline_uuid = str(uuid.uuid4())
    bad = {"missing": None, "empty": "", **bad_pipeline_tokens(aws_env.token_secret, pipeline_uuid, OTHER)}
    with mock_aws():  # no table: a read would be a storage error, not a 401
        for what, token in bad.items():
            with pytest.raises(Unauthorized) as refused:
                access.pipeline_for(pipeline_uuid, token, pj.Config.from_env())
            assert (type(refused.value), str(refused.value)) == (Unauthorized, BAD_TOKEN), what


@pytest.mark.parametrize("address", ["engine-access", OTHER.upper(), OTHER[:-1], f"{OTHER}/x", "", "../jobs"])
def test_an_address_whose_pipeline_is_not_a_uuid_is_a_400_naming_pipeline(aws_env, address):
    token = tokens.pipeline_token(aws_env.token_secret, address)  # even a token minted for that text
    with mock_aws(), pytest.raises(InvalidEvent) as refused:
        access.pipeline_for(address, token, pj.Config.from_env())
    assert [error["field"] for error in refused.value.errors] == ["pipeline"]


def test_an_unknown_or_inactive_pipeline_is_not_found_even_with_its_own_token(aws_env, pipeline):
    config = pj.Config.from_env()
    with pytest.raises(PipelineNotFound, match="not found"):
        access.pipeline_for(OTHER, tokens.pipeline_token(aws_env.token_secret, OTHER), config)
    pj.register_pipeline("engine-access", components=["snakemake"], active=False)
    with pytest.raises(PipelineNotFound, match="is not active"):
        access.pipeline_for(pipeline.uuid, tokens.pipeline_token(aws_env.token_secret, pipeline.uuid), config)
