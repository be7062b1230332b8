"""Which job an AWS Batch job or ECS task belongs to, and which event its state change is."""

from __future__ import annotations

from frontdoors import sample

from pipelinejobs.intake import aws_events

JOB = "1b1a7d6e-5c43-5f0e-8a7b-3f2d9c4e6a10"
OTHER = "2c2b8e7f-6d54-5a1f-9b8c-4a3e0d5f7b21"


def test_batch_tag_beats_environment_beats_job_name():
    event = sample("events", "batch-job-state-change")
    detail = event["detail"]
    detail["jobName"] = f"job-{OTHER}"
    detail["container"]["environment"] = [{"name": "PIPELINEJOBS_JOB_UUID", "value": OTHER.upper()}]
    assert aws_events.batch_message(event)["uuid"] == JOB
    del detail["tags"]["pipelinejobs:job"]
    assert aws_events.batch_message(event)["uuid"] == OTHER  # found case-insensitively, sent lowercase
    detail["container"]["environment"] = []
    detail["jobName"] = f"run_{JOB}_2"
    assert aws_events.batch_message(event)["uuid"] == JOB
    detail["jobName"] = "nightly"
    assert aws_events.batch_message(event) is None


def test_batch_message_is_compact_and_idempotent():
    event = sample("events", "batch-job-state-change")
    event["detail"].update(status="FAILED", statusReason="Essential container in task exited")
    event["detail"]["container"]["exitCode"] = 137
    message = aws_events.batch_message(event)
    assert (message["event"], message["id"]) == ("fail", f"eb-{event['id']}")
    assert message["data"] == {
        "source": "aws.batch", "status": "FAILED", "statusReason": "Essential container in task exited",
        "jobId": "4c7599ae-0a82-49aa-ba5a-4727fcce14a8", "jobName": "rnaseq-align",
        "jobQueue": "arn:aws:batch:us-east-1:123456789012:job-queue/pipelinejobs", "exitCode": 137,
        "logStreamName": "rnaseq/default/0123456789abcdef", "attempts": 0,
        # the attempt it ended, and how (pipelinejobs.failures)
        "attempt": 1, "launcher": "batch", "handle": {"job_id": "4c7599ae-0a82-49aa-ba5a-4727fcce14a8"},
        "started": "2026-11-22T00:00:00.000Z", "exit_code": 137, "reason": "Essential container in task exited",
        "failure": "exit_nonzero",
    }


def test_ecs_override_beats_started_by_beats_group():
    event = sample("events", "ecs-task-state-change")
    detail = event["detail"]
    detail.update(startedBy=OTHER, group=f"pipelinejobs:{OTHER}")
    assert aws_events.ecs_message(event)["uuid"] == JOB
    detail["overrides"] = {"containerOverrides": [{"name": "worker"}]}
    assert aws_events.ecs_message(event)["uuid"] == OTHER
    detail["startedBy"] = "ecs-svc/123"
    assert aws_events.ecs_message(event)["uuid"] == OTHER
    detail["group"] = "family:worker"
    assert aws_events.ecs_message(event) is None


def test_ecs_events_by_last_status_and_exit_codes():
    event = sample("events", "ecs-task-state-change")
    detail = event["detail"]

    def event_for(**changes):
        detail.update(changes)
        return aws_events.ecs_message(event)["event"]

    assert event_for() == "finish"
    assert event_for(stopCode="UserInitiated") == "fail"  # StopTask: it did not finish
    detail["stopCode"] = "EssentialContainerExited"
    detail["containers"].append({"name": "sidecar", "exitCode": 2})
    assert event_for() == "fail"
    detail["containers"] = [{"name": "worker"}]  # never started: no exit code
    assert event_for() == "fail"
    assert event_for(lastStatus="PROVISIONING") == "resource"
    assert event_for(lastStatus="RUNNING") == "run"
    assert event_for(lastStatus="DEPROVISIONING") == "update"


def test_only_batch_and_ecs_state_changes_are_recognised():
    assert aws_events.is_state_change(sample("events", "ecs-task-state-change"))
    assert aws_events.is_state_change(sample("events", "batch-job-state-change"))
    assert not aws_events.is_state_change({"detail-type": "Scheduled Event", "source": "aws.events"})
    assert not aws_events.is_state_change(sample("events", "direct"))
    assert not aws_events.is_state_change(["detail-type"])
