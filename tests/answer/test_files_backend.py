"""The directory backend over real HTTP: matching, layers, unknown clients, reloads, bad files."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from dhcpbridge.answer.files import FileStore
from dhcpbridge.answer.service import AnswerService

from .conftest import RecordingLog, Serve, q4, q6

_bump = itertools.count(1)


def put(directory: Path, name: str, content: Any) -> Path:
    """Write a file (JSON for dicts, text as is) and give it a fresh mtime."""
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content) if isinstance(content, dict) else content)
    stamp = time.time_ns() + next(_bump) * 1_000_000
    os.utime(path, ns=(stamp, stamp))
    return path


@pytest.fixture
def hosts(tmp_path: Path) -> Path:
    directory = tmp_path / "hosts"
    put(directory, "02-67-00-00-00-02.json", {"client_ip": "10.67.0.50", "hostname": "cli0"})
    put(directory, "default.json", {"dns_servers": ["10.67.0.1"], "lease_time": 600})
    put(
        directory,
        "subnet-10.67.0.0_24.toml",
        'lease_time = 3600\nsubnet_mask = "255.255.255.0"\nrouter = ["10.67.0.1"]\n'
        '[[options]]\nname = "tftp-server-name"\nvalue = "boot.lab.example"\n',
    )
    put(directory, "README.md", "not an entry: ignored\n")
    put(directory, ".git/config", "[core]\n")
    return directory


def files_service(directory: Path, log: RecordingLog, **options: Any) -> AnswerService:
    store = FileStore(directory, log)
    service = AnswerService([store], log, **options)
    service.load()
    return service


async def test_client_by_mac_is_laid_over_default_and_subnet(
    hosts: Path, log: RecordingLog, serve: Serve
) -> None:
    bridge = await serve(files_service(hosts, log))
    answer = await bridge.ask(q4(subnet="10.67.0.0/24"))
    assert answer == {
        "action": "assign",
        "dns_servers": ["10.67.0.1"],
        "lease_time": 3600,  # the subnet layer overrides the default layer
        "subnet_mask": "255.255.255.0",
        "router": ["10.67.0.1"],
        "client_ip": "10.67.0.50",
        "hostname": "cli0",
        "options": [{"name": "tftp-server-name", "value": "boot.lab.example"}],
    }
    # without the subnet only the default layer applies
    assert await bridge.ask(q4()) == {
        "action": "assign",
        "dns_servers": ["10.67.0.1"],
        "lease_time": 600,
        "client_ip": "10.67.0.50",
        "hostname": "cli0",
    }


async def test_unknown_client_gets_none_unless_a_default_answer_is_set(
    hosts: Path, log: RecordingLog, serve: Serve
) -> None:
    bridge = await serve(files_service(hosts, log))
    assert await bridge.ask(q4(client_mac="02:67:00:00:00:99", subnet="10.67.0.0/24")) == {"action": "none"}

    options_only = files_service(hosts, log, default={"boot_file": "ipxe.efi"})
    bridge = await serve(options_only)
    answer = await bridge.ask(q4(client_mac="02:67:00:00:00:99", subnet="10.67.0.0/24"))
    assert answer["action"] == "assign" and "client_ip" not in answer
    assert answer["boot_file"] == "ipxe.efi" and answer["router"] == ["10.67.0.1"]

    ignoring = files_service(hosts, log, default={"action": "ignore", "message": "unknown"})
    bridge = await serve(ignoring)
    assert await bridge.ask(q4(client_mac="02:67:00:00:00:99")) == {"action": "ignore", "message": "unknown"}


async def test_file_name_spellings_and_key_precedence(
    tmp_path: Path, log: RecordingLog, serve: Serve
) -> None:
    put(tmp_path, "02:67:00:00:00:03.json", {"client_ip": "10.67.0.53"})
    put(tmp_path, "sub/MAC-0267.0000.0004.toml", 'client_ip = "10.67.0.54"\n')
    put(tmp_path, "client-id-01:02:67:00:00:00:05.json", {"client_ip": "10.67.0.55"})
    put(tmp_path, "02-67-00-00-00-05.json", {"client_ip": "10.67.0.99"})
    put(
        tmp_path,
        "duid-00-01-00-01-2e-6b-1c-3a-02-67-00-00-00-02.json",
        {"addresses": [{"address": "fd68::7"}]},
    )
    put(tmp_path, "circuit-id-657468302f312f33.json", {"client_ip": "10.68.1.3"})
    bridge = await serve(files_service(tmp_path, log))
    assert (await bridge.ask(q4(client_mac="02:67:00:00:00:03")))["client_ip"] == "10.67.0.53"
    assert (await bridge.ask(q4(client_mac="02:67:00:00:00:04")))["client_ip"] == "10.67.0.54"
    # option 61 is more specific than the MAC address
    answer = await bridge.ask(q4(client_mac="02:67:00:00:00:05", client_id="01026700000005"))
    assert answer["client_ip"] == "10.67.0.55"
    assert (await bridge.ask(q4(client_mac="02:67:00:00:00:05")))["client_ip"] == "10.67.0.99"
    assert (await bridge.ask(q6()))["addresses"] == [{"address": "fd68::7"}]
    relayed = q4(client_mac="02:68:00:00:01:07", relay_ip="10.68.0.2", circuit_id={"hex": "657468302f312f33"})
    assert (await bridge.ask(relayed))["client_ip"] == "10.68.1.3"


async def test_layers_stack_from_general_to_specific(tmp_path: Path, log: RecordingLog, serve: Serve) -> None:
    put(
        tmp_path,
        "default.json",
        {"lease_time": 100, "options": [{"code": 224, "type": "string", "value": "d"}]},
    )
    put(tmp_path, "interface-srv1.json", {"lease_time": 200, "domain_name": "if.example"})
    put(tmp_path, "relay-10.68.0.2.json", {"lease_time": 300, "router": ["10.68.0.2"]})
    put(
        tmp_path,
        "subnet-10.68.0.0_16.json",
        {
            "lease_time": 400,
            "options": [{"code": 224, "type": "string", "value": "s"}, {"code": 225, "hex": "01"}],
        },
    )
    put(
        tmp_path,
        "02-68-00-00-01-07.json",
        {"client_ip": "10.68.1.7", "options": [{"code": 225, "hex": "02"}]},
    )
    bridge = await serve(files_service(tmp_path, log))
    question = q4(
        client_mac="02:68:00:00:01:07", interface="srv1", relay_ip="10.68.0.2", subnet="10.68.0.0/16"
    )
    answer = await bridge.ask(question)
    assert answer["lease_time"] == 400
    assert answer["router"] == ["10.68.0.2"] and answer["domain_name"] == "if.example"
    assert answer["options"] == [{"code": 224, "type": "string", "value": "s"}, {"code": 225, "hex": "02"}]
    logged = log.find("info", "answer")[-1]
    assert logged["origin"] == "02-68-00-00-01-07.json"
    assert logged["layers"] == [
        "default.json",
        "interface-srv1.json",
        "relay-10.68.0.2.json",
        "subnet-10.68.0.0_16.json",
    ]


async def test_ignore_and_deny_entries_stand_alone(tmp_path: Path, log: RecordingLog, serve: Serve) -> None:
    put(tmp_path, "default.json", {"lease_time": 100})
    put(tmp_path, "02-67-00-00-00-0a.json", {"action": "ignore", "message": "blocked", "cache_ttl": 60})
    put(tmp_path, "02-67-00-00-00-0b.toml", 'action = "deny"\n')
    bridge = await serve(files_service(tmp_path, log))
    assert await bridge.ask(q4(client_mac="02:67:00:00:00:0a")) == {
        "action": "ignore",
        "message": "blocked",
        "cache_ttl": 60,
    }
    assert await bridge.ask(q4(client_mac="02:67:00:00:00:0b")) == {"action": "deny"}


async def test_change_then_reload(hosts: Path, log: RecordingLog, serve: Serve) -> None:
    service = files_service(hosts, log)
    bridge = await serve(service, poll_interval=0.05)
    assert (await bridge.ask(q4()))["client_ip"] == "10.67.0.50"
    generation = service.stores[0].generation

    put(hosts, "02-67-00-00-00-02.json", {"client_ip": "10.67.0.51", "hostname": "cli0"})
    put(hosts, "new/02-67-00-00-00-07.toml", 'client_ip = "10.67.0.57"\n')

    async def until(predicate: Any) -> None:
        deadline = time.monotonic() + 5
        while not await predicate():
            assert time.monotonic() < deadline, "the poller did not pick up the change"
            await asyncio.sleep(0.05)

    async def changed() -> bool:
        return (await bridge.ask(q4()))["client_ip"] == "10.67.0.51"

    await until(changed)
    assert service.stores[0].generation > generation
    assert (await bridge.ask(q4(client_mac="02:67:00:00:00:07")))["client_ip"] == "10.67.0.57"

    (hosts / "new" / "02-67-00-00-00-07.toml").unlink()

    async def removed() -> bool:
        return (await bridge.ask(q4(client_mac="02:67:00:00:00:07")))["action"] == "none"

    await until(removed)
    assert log.find("info", "file removed")


async def test_a_broken_edit_keeps_the_last_good_version(
    hosts: Path, log: RecordingLog, serve: Serve
) -> None:
    service = files_service(hosts, log)
    bridge = await serve(service)
    put(hosts, "02-67-00-00-00-02.json", '{"client_ip": "10.67.0.51",')  # half-written
    assert await service.refresh()
    assert (await bridge.ask(q4()))["client_ip"] == "10.67.0.50"
    error = log.find("error", "bad answer file")[-1]
    assert error["kept_last_good"] is True and "not JSON" in error["problems"][0]
    status, _, body = await bridge.get("/healthz")
    assert status == 200 and json.loads(body)["backends"][0]["errors"] == 1

    put(hosts, "02-67-00-00-00-02.json", {"client_ip": "10.67.0.51"})
    assert await service.refresh()
    assert (await bridge.ask(q4()))["client_ip"] == "10.67.0.51"
    assert service.problems() == []


async def test_bad_files_are_reported_and_skipped(tmp_path: Path, log: RecordingLog, serve: Serve) -> None:
    put(tmp_path, "02-67-00-00-00-02.json", {"client_ip": "10.67.0.300"})
    put(tmp_path, "relay-10.68.0.2.json", {"action": "ignore"})
    put(tmp_path, "printer.json", {"client_ip": "10.67.0.9"})
    put(tmp_path, "02-67-00-00-00-03.json", {"client_ip": "10.67.0.53", "lease_tim": 5})
    put(tmp_path, "02-67-00-00-00-04.toml", "client_ip = \n")
    put(tmp_path, "02-67-00-00-00-05.json", "[1, 2]")
    service = files_service(tmp_path, log)
    problems = "\n".join(service.problems())
    assert "02-67-00-00-00-02.json: client_ip: '10.67.0.300' is not an IPv4 address" in problems
    assert "relay-10.68.0.2.json: relay-10.68.0.2 is a layer" in problems
    assert "printer.json: file name: 'printer' is not a key" in problems
    assert "02-67-00-00-00-04.toml: not TOML" in problems
    assert "02-67-00-00-00-05.json: an entry is a JSON object" in problems
    warnings = log.find("warning", "answer file")
    assert any("'lease_tim' is ignored (a typo?)" in w["warning"] for w in warnings)
    bridge = await serve(service)
    assert await bridge.ask(q4()) == {"action": "none"}
    assert (await bridge.ask(q4(client_mac="02:67:00:00:00:03")))["client_ip"] == "10.67.0.53"


async def test_two_files_for_one_key_use_the_first(tmp_path: Path, log: RecordingLog, serve: Serve) -> None:
    put(tmp_path, "02-67-00-00-00-02.json", {"client_ip": "10.67.0.50"})
    put(tmp_path, "02:67:00:00:00:02.toml", 'client_ip = "10.67.0.51"\n')
    service = files_service(tmp_path, log)
    bridge = await serve(service)
    assert (await bridge.ask(q4()))["client_ip"] == "10.67.0.50"
    assert log.find("error", "two files for one key; using the first")
    assert any("duplicate key" in line for line in service.problems())


async def test_answers_are_cached_until_a_store_changes(hosts: Path, log: RecordingLog, serve: Serve) -> None:
    service = files_service(hosts, log)
    bridge = await serve(service)
    await bridge.ask(q4())
    await bridge.ask(q4())
    assert [r["cached"] for r in log.find("info", "answer")] == [False, True]
    put(hosts, "default.json", {"dns_servers": ["10.67.0.2"]})
    assert await service.refresh()
    assert (await bridge.ask(q4()))["dns_servers"] == ["10.67.0.2"]
    assert log.find("info", "answer")[-1]["cached"] is False


async def test_http_surface(hosts: Path, log: RecordingLog, serve: Serve) -> None:
    bridge = await serve(files_service(hosts, log))
    status, body = await bridge.post("/v1/question", q4(protocol=5))
    assert status == 400 and body["details"] == ["protocol: is 5; it must be 4 or 6"]
    status, body = await bridge.post("/v1/question", b"{not json")
    assert status == 400 and body["error"] == "the body is not JSON"
    status, body = await bridge.post("/v1/question", q4(client_mac="02:67:00:00:00:0G"))
    assert status == 400 and body["details"][0].startswith("client_mac:")
    assert log.find("warning", "bad question")

    status, content_type, text = await bridge.get("/healthz")
    health = json.loads(text)
    assert status == 200 and health["status"] == "ok" and health["contract_version"] == 1
    assert health["backends"][0] | {"entries": 3} == health["backends"][0]

    status, content_type, text = await bridge.get("/openapi.yaml")
    assert status == 200 and content_type == "application/yaml" and text.startswith("openapi: 3.1")
    status, content_type, text = await bridge.get("/openapi.json")
    assert status == 200 and json.loads(text)["paths"]["/v1/question"]
    status, content_type, text = await bridge.get("/schemas/answer.schema.json")
    assert status == 200 and json.loads(text)["$id"] == "urn:dhcpbridge:contract:v1:answer"
    assert (await bridge.get("/schemas/nope.json"))[0] == 404


async def test_commit_notifications(hosts: Path, log: RecordingLog, serve: Serve) -> None:
    bridge = await serve(files_service(hosts, log))
    note = {
        "version": 1,
        "event": "commit",
        "protocol": 4,
        "question": q4(msg_type="DHCPREQUEST"),
        "lease": {"client_mac": "02:67:00:00:00:02", "client_ip": "10.67.0.50", "lease_time": 3600},
    }
    status, _ = await bridge.post("/v1/commit", note)
    assert status == 204
    assert (
        log.find("info", "lease event")[-1] | {"client_ip": "10.67.0.50", "lease_event": "commit"}
        == log.find("info", "lease event")[-1]
    )
    status, body = await bridge.post(
        "/v1/commit", {"version": 1, "event": "renew", "protocol": 4, "lease": {}}
    )
    assert status == 400 and body["details"][0].startswith("event:")
