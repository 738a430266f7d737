"""The README's stdlib answer service (docs/examples/minimal_answer_service.py) keeps the contract."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dhcpbridge.contract import openapi_document, validate_answer

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "minimal_answer_service.py"


@pytest.fixture
def example_port() -> Iterator[int]:
    process = subprocess.Popen(
        [sys.executable, str(EXAMPLE), "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("listening on http://127.0.0.1:"), line
        yield int(line.rsplit(":", 1)[1].split("/")[0])
    finally:
        process.kill()
        process.wait(timeout=10)


def question_examples() -> list[dict[str, Any]]:
    media = openapi_document()["paths"]["/v1/question"]["post"]["requestBody"]["content"]["application/json"]
    return [example["value"] for example in media["examples"].values()]


def test_the_example_answers_within_the_contract(example_port: int) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", example_port, timeout=10)
    answers = {}
    try:
        for question in question_examples():  # one keep-alive connection for all of them
            connection.request(
                "POST", "/v1/question", json.dumps(question), {"Content-Type": "application/json"}
            )
            response = connection.getresponse()
            assert response.status == 200
            assert response.getheader("Content-Type") == "application/json"
            answer = json.loads(response.read())
            validate_answer(answer)
            answers[(question["protocol"], question["msg_type"], question.get("client_mac"))] = answer
    finally:
        connection.close()
    assert answers[(4, "DHCPDISCOVER", "02:67:00:00:00:02")] == {
        "action": "assign",
        "client_ip": "10.67.0.50",
        "lease_time": 3600,
        "subnet_mask": "255.255.255.0",
        "router": ["10.67.0.1"],
    }
    assert answers[(4, "DHCPREQUEST", "02:68:00:00:01:07")] == {"action": "none"}
    assert answers[(6, "SOLICIT", "02:67:00:00:00:02")] == {"action": "none"}


def test_the_example_is_short() -> None:
    code = [
        line
        for line in EXAMPLE.read_text().splitlines()
        if line.strip() and not line.lstrip().startswith(("#", '"""'))
    ]
    assert len(code) <= 22
