"""The client SDK: what a program that creates, moves, reads and runs jobs calls (``PipelineJob``, pipelines,
transports, and the orchestration's start/kill/rerun/stat/attempts/logs in ``runs``).

Nothing the Lambda functions run imports this package (tests/unit/test_import_direction.py); its public
names are re-exported by ``pipelinejobs`` and ``pipelinejobs.orchestration``, imported on first use.
"""
