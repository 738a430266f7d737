"""The dashboard in a real browser: Debian's chromium (headless, driven by Selenium through
Debian's chromedriver; no browser download) against a real ``dhcpbridge serve`` on loopback.
What a person sees is checked: the pool numbers before and after a client (``dhcpbridge probe``
acting as a relay agent on 127.0.0.1) gets a lease, the looking glass showing its DORA with the
decision, the lease search, the DNS update queue waiting for a zone server that is down, and
that only an admin token gets the release button. Screenshots
are saved in the test's temporary directory (and in ``$DHCPBRIDGE_SCREENSHOTS`` when set)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from dhcpbridge.testing.e2e import require_e2e

pytestmark = pytest.mark.e2e
DHCPBRIDGE = str(Path(sys.executable).with_name("dhcpbridge"))
ADMIN, READ = "d-admin-token-7f3a", "d-read-token-91c2"
MAC = "02:67:0d:0b:00:01"
CONFIG = """\
[server]
address = "127.0.0.1"
port = {udp}
interfaces = []
raw-socket = false
log-format = "json"

[leases]
store = "sqlite:///{tmp}/leases.db"

[api]
listen = "127.0.0.1:{tcp}"
tokens-file = "tokens"

[dns]
retry-min = 0.5
retry-max = 2.0
timeout = 1.0

[[dns.zone]]
name = "browser.test"
server = "127.0.0.1"
port = {dead}

[[subnet4]]
subnet = "10.67.0.0/24"
pools = ["10.67.0.100-10.67.0.109"]
relay-addresses = ["127.0.0.1"]
options = {{ routers = ["10.67.0.1"], domain-name = "browser.test" }}
"""


def free_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait(check: Callable[[], Any], timeout: float = 60.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
        except Exception as exc:  # the page may be between two refreshes
            last = exc
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what} ({last!r})")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[dict[str, Any]]:
    udp, tcp = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_STREAM)
    (tmp_path / "tokens").write_text(f"{ADMIN} admin ops\n{READ} read noc\n")
    (tmp_path / "tokens").chmod(0o600)
    config = tmp_path / "dhcpbridge.toml"
    dead = free_port(socket.SOCK_STREAM)  # the zone's server: nothing listens there
    config.write_text(CONFIG.format(udp=udp, tcp=tcp, tmp=tmp_path, dead=dead))
    log = (tmp_path / "server.log").open("wb")
    proc = subprocess.Popen([DHCPBRIDGE, "serve", "--config", str(config)], stdout=log, stderr=log)
    base = f"http://127.0.0.1:{tcp}"
    try:
        wait(lambda: httpx.get(base + "/v1/health", timeout=2).status_code == 200, 60, "the API")
        yield {"base": base, "udp": udp, "log": tmp_path / "server.log"}
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        log.close()
    assert "Traceback" not in (tmp_path / "server.log").read_text()


@pytest.fixture
def browser() -> Iterator[Any]:
    require_e2e("chromium", "chromedriver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,2200"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def screenshot(driver: Any, path: Path) -> None:
    driver.save_screenshot(str(path))
    keep = os.environ.get("DHCPBRIDGE_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(keep) / path.name)


def use_token(driver: Any, token: str) -> None:
    from selenium.webdriver.common.by import By

    box = driver.find_element(By.ID, "token")
    box.clear()
    box.send_keys(token)
    driver.find_element(By.CSS_SELECTOR, "#token-form button").click()


def test_the_dashboard_shows_pools_and_a_clients_dora(
    served: dict[str, Any], browser: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    driver = browser
    driver.get(served["base"] + "/")
    message = wait(lambda: driver.find_element(By.ID, "message").is_displayed(), 30, "the token prompt")
    assert message and "token" in driver.find_element(By.ID, "message").text
    use_token(driver, READ)
    subnet = '[data-subnet="10.67.0.0/24"]'

    def number(kind: str) -> str:
        return str(driver.find_element(By.CSS_SELECTOR, f"{subnet} .numbers .{kind}").text)

    wait(lambda: number("total") == "10", 30, "the pool's numbers")
    assert number("bound") == "0" and number("free") == "10"
    assert "noc (read)" in driver.find_element(By.ID, "who").text
    screenshot(driver, tmp_path / "dashboard-before.png")

    probe = subprocess.run(
        [DHCPBRIDGE, "probe", "--server", f"127.0.0.1:{served['udp']}", "--mac", MAC, "--hostname", "seen", "--full", "--timeout", "10"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert probe.returncode == 0, probe.stdout + probe.stderr
    wait(lambda: number("bound") == "1", 30, "the pool to show the new lease")
    assert number("free") == "9" and number("total") == "10"
    assert "10.0 %" in driver.find_element(By.CSS_SELECTOR, f"{subnet} .pct").text

    # the looking glass: the client's DORA, newest first, with the decision
    box = driver.find_element(By.ID, "glass-client")
    box.send_keys(MAC)
    driver.find_element(By.CSS_SELECTOR, "#glass-form button").click()
    wait(
        lambda: len(driver.find_elements(By.CSS_SELECTOR, "#glass-view .exchange")) >= 2, 30, "the exchanges"
    )
    cards = [c.text for c in driver.find_elements(By.CSS_SELECTOR, "#glass-view .exchange")]
    assert "DHCPREQUEST → DHCPACK" in cards[0] and "DHCPDISCOVER → DHCPOFFER" in cards[1]
    assert "sent" in cards[0] and "source pools" in cards[0] and "subnet 10.67.0.0/24" in cards[0]
    assert "Classify" in cards[0]  # the steps of the decision path
    recent = driver.find_element(By.ID, "glass-recent").text
    assert MAC in recent and "DHCPACK" in recent

    # lease search: the lease is there, and a read token gets no release button
    driver.find_element(By.CSS_SELECTOR, "#lease-form button").click()
    wait(lambda: MAC in driver.find_element(By.ID, "leases").text, 30, "the lease in the search")
    assert driver.find_elements(By.CSS_SELECTOR, "#leases .release") == []
    # the counters and the rates chart's legend are filled
    assert "DISCOVER" in driver.find_element(By.ID, "counters").text
    wait(lambda: "ACK" in driver.find_element(By.ID, "legend").text, 30, "the rates legend")
    # the chart's history has the exchange's rates (DISCOVER and ACK per second above zero)
    rates = "return state.rates.some((p) => p[0] > 0) && state.rates.some((p) => p[3] > 0)"
    wait(lambda: driver.execute_script(rates), 30, "the rates of the exchange")
    assert driver.find_element(By.ID, "health").text == "ready"
    # the DNS queue: the client's name waits for a zone server that does not answer
    dns = "#dns"
    wait(lambda: "waiting 1" in driver.find_element(By.CSS_SELECTOR, dns).text, 30, "the DNS backlog")
    failed = "failed attempts"
    wait(lambda: failed + " 0" not in driver.find_element(By.CSS_SELECTOR, dns).text, 30, "DNS failures")
    assert "warn" in (driver.find_element(By.CSS_SELECTOR, dns).get_attribute("class") or "")
    screenshot(driver, tmp_path / "dashboard-after.png")

    use_token(driver, ADMIN)
    wait(lambda: "ops (admin)" in driver.find_element(By.ID, "who").text, 30, "the admin role")
    wait(lambda: driver.find_elements(By.CSS_SELECTOR, "#leases .release"), 30, "the admin's release button")
    assert (tmp_path / "dashboard-after.png").stat().st_size > 10_000
