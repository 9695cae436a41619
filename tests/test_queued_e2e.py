"""End to end: 1000 messages through the queued backend, django-tasks-db's real worker
(two processes, a SQLite file) and a fake ESP on 127.0.0.1 that injects faults.

Every message must end delivered exactly once, or (Postmark takes no idempotency key)
reported "unknown" where the request may have arrived; none lost, none sent twice,
and the retries in the workers' log.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from tests.queued_e2e.fake_esp import RESET, TIMEOUT, FakeESP, fault
from tests.utils import run_python

COUNT = 1000
WORKERS = 2
ROOT = Path(__file__).resolve().parent.parent


def run(args: list[str], env: dict[str, str], timeout: float = 300) -> str:
    done = run_python(*args, env=env, timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def first_fault(subject: str) -> Any:
    return fault(int(subject.rsplit(" ", 1)[1]), 1)


def test_thousand_messages_through_the_database_worker(tmp_path: Path) -> None:
    with FakeESP() as esp:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.queued_e2e.settings",
            "ANYMAIL_E2E_DB": str(tmp_path / "tasks.sqlite3"),
            "ANYMAIL_E2E_ESP_URL": esp.url,
            "PYTHONPATH": str(ROOT),
        }
        run(["-m", "django", "migrate", "--verbosity", "0"], env)
        run(["-m", "tests.queued_e2e.enqueue", str(COUNT)], env)

        logs = [tmp_path / f"worker{index}.log" for index in range(WORKERS)]
        workers = []
        for log in logs:
            with log.open("w") as output:
                workers.append(
                    subprocess.Popen(
                        [
                            sys.executable,
                            "-m",
                            "django",
                            "db_worker",
                            "--batch",
                            "--interval",
                            "0",
                            "--no-startup-delay",
                            "--no-reload",
                        ],
                        cwd=ROOT,
                        env=env,
                        stdout=output,
                        stderr=subprocess.STDOUT,
                    )
                )
        deadline = time.monotonic() + 300  # (about 30 s on an idle 2-core machine)
        try:
            for worker in workers:
                assert worker.wait(timeout=max(1, deadline - time.monotonic())) == 0
        finally:
            for worker in workers:
                if worker.poll() is None:
                    worker.kill()
        lines = run(["-m", "tests.queued_e2e.report"], env).splitlines()
    report = [json.loads(line) for line in lines]
    log_text = "\n".join(log.read_text() for log in logs)

    # Nothing from the rolled-back transaction was queued, nor sent.
    subjects = Counter(task["subject"] for task in report)
    assert len(report) == COUNT and max(subjects.values()) == 1
    assert not any(subject.startswith("e2e rolledback") for subject in subjects)
    assert not any(subject.startswith("e2e rolledback") for subject in esp.attempts)

    outcomes: Counter[str] = Counter()
    for task in report:
        subject, value = task["subject"], task["return_value"]
        assert task["status"] == "SUCCESSFUL", task
        delivered = esp.deliveries.get(subject, 0)
        injected = first_fault(subject)
        if value["status"] == ["unknown"]:
            # Only where the request may have arrived and there's no idempotency key: and
            # then not retried (one attempt), delivered at most once.
            assert subject.startswith("e2e postmark") and injected in (RESET, TIMEOUT), task
            assert len(esp.attempts[subject]) == 1
            assert delivered == (1 if injected == TIMEOUT else 0)
            outcomes["unknown"] += 1
        else:
            assert delivered == 1, (task, esp.attempts[subject])
            assert value["status"] == (["queued"] if subject.startswith("e2e resend") else ["sent"])
            outcomes["delivered"] += 1
    faults = Counter(str(first_fault(subject)) for subject in subjects)
    assert outcomes["unknown"] == faults[RESET] // 2 + faults[TIMEOUT] // 2
    assert outcomes["delivered"] == COUNT - outcomes["unknown"]

    # Retry-After was honoured: the second attempt came at least a second later.
    for subject, attempts in esp.attempts.items():
        if first_fault(subject) == (429, {"Retry-After": "1"}):
            assert attempts[1][0] - attempts[0][0] >= 1.0, subject

    # The retries are in the workers' log: a line for each fault the ESP answered, and
    # for each reset or timeout on Resend (Postmark's are reported "unknown" instead).
    # (A busy machine may add failures to connect, which never reached the fake ESP.)
    logged = Counter(re.findall(r"failed \(([^)]*)\), retrying in", log_text))
    served = Counter(
        (subject.split()[1], outcome)
        for subject, attempts in esp.attempts.items()
        for _, outcome in attempts
    )
    for reason, fault_answer in [
        ("HTTP 500", "(500, {})"),
        ("HTTP 502", "(502, {})"),
        ("HTTP 503", "(503, {})"),
        ("HTTP 429", "(429, {})"),
        ("HTTP 429, Retry-After 1 s", "(429, {'Retry-After': '1'})"),
    ]:
        count = served["resend", fault_answer] + served["postmark", fault_answer]
        assert logged[reason] == count > 0, reason
    assert logged["no answer"] >= served["resend", RESET] + served["resend", TIMEOUT] > 0
    assert set(logged) <= {
        "HTTP 500",
        "HTTP 502",
        "HTTP 503",
        "HTTP 429",
        "HTTP 429, Retry-After 1 s",
        "no answer",
        "could not connect",
    }
    assert log_text.count("reported as 'unknown'") == outcomes["unknown"]
