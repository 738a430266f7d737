"""A complete dhcpbridge answer service in plain Python: fixed IPv4 addresses by MAC, stdlib only."""

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOSTS = {"02:67:00:00:00:02": "10.67.0.50", "02:67:00:00:00:03": "10.67.0.51"}
NETWORK = {"lease_time": 3600, "subnet_mask": "255.255.255.0", "router": ["10.67.0.1"]}


class Bridge(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the DHCP server reuses its connection

    def do_POST(self) -> None:
        question = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        address = HOSTS.get(question.get("client_mac", "")) if question["protocol"] == 4 else None
        answer = {"action": "assign", "client_ip": address, **NETWORK} if address else {"action": "none"}
        body = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 8067), Bridge)
print(f"listening on http://127.0.0.1:{server.server_address[1]}/v1/question", flush=True)
server.serve_forever()
