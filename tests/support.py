"""Helpers shared by unit (moto) and integration (DynamoDB Local) tests."""

from __future__ import annotations

import boto3

import pipelinejobs as pj


def table_items() -> list[dict]:
    """Every item in the configured table (a Scan: fine for a test's small table)."""
    config = pj.Config.from_env()
    client = boto3.client("dynamodb", endpoint_url=config.endpoint_url)
    pages = client.get_paginator("scan").paginate(TableName=config.table, ConsistentRead=True)
    return sorted((item for page in pages for item in page["Items"]), key=lambda i: (i["pk"]["S"], i["sk"]["S"]))


def new_job(name: str = "demo", data: dict | None = None) -> pj.PipelineJob:
    """A set-up job of a freshly registered pipeline (creates the table first)."""
    pj.create_tables()
    pipeline = pj.register_pipeline(name, components=["step-1"], task={"launcher": "local"})
    return pj.PipelineJob(pipeline.uuid, data or {"sample": name}).setup()


def applied(job: pj.PipelineJob) -> list[str]:
    """Names of the events applied to the job, in order."""
    return [entry.name for entry in job.history if entry.applied]
