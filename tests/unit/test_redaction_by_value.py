"""redaction.without: one known secret taken out of data that is kept (an engine's echo of its own address)."""

from __future__ import annotations

from pipelinejobs.redaction import REDACTED, without

TOKEN = "0000ffff" + "0123456789abcdef" * 2 + "01234567"


def test_the_secret_goes_wherever_it_is_and_nothing_else_does():
    kept = {"workflow": {"commandLine": f"nextflow run x -with-weblog 'https://api/engines/nextflow/p/{TOKEN}'",
                         "scriptId": "2902f5aa7f297f2dccd6baebac7730a2"},
            "argv": ["-with-weblog", f"https://api/{TOKEN.upper()}"], TOKEN: 1, "count": 3}
    assert without(kept, TOKEN) == {
        "workflow": {"commandLine": f"nextflow run x -with-weblog 'https://api/engines/nextflow/p/{REDACTED}'",
                     "scriptId": "2902f5aa7f297f2dccd6baebac7730a2"},
        "argv": ["-with-weblog", f"https://api/{REDACTED}"], REDACTED: 1, "count": 3}


def test_no_secret_changes_nothing():
    assert without({"a": "b"}, "") == {"a": "b"}
