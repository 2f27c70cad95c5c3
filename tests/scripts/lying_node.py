#!/usr/bin/env python3
"""A lying Expressway: an HTTPS proxy in front of one edgecert-sim node that
rewrites chosen replies, so an https:// spec reads lies (the bad-input
corpus's reply cases, tests/corpus/bad-input/reply/cases.json).

Usage: lying_node.py --listen 127.0.0.1:0 --upstream https://127.0.0.1:PORT
                     --cert CERT.pem --key KEY.pem --rules RULES.json

Prints "lying-node listening on 127.0.0.1:PORT" once ready. Every request
is forwarded to the upstream (certificate not checked: it is the local
simulator) and its reply passed back unless a rule matches. RULES.json is
re-read per request (the runner rewrites it between cases):
  {"rules": [{"method": "GET", "path": "/getxml",      # substring of the path
              "status": 200,                          # optional
              "content_type": "text/xml",             # optional
              "body": "text" | "body_b64": "..." | "repeat": ["text", N],
              "replace": [["from", "to"], ...]}]}      # edits the upstream body
A rule without body/body_b64/repeat edits (replace) or re-labels the
upstream's reply.
"""

import argparse
import base64
import http.client
import http.server
import json
import ssl
import sys
import urllib.parse


def load_rules(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f).get("rules", [])
    except (OSError, ValueError):
        return []


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "lying-node"

    def log_message(self, fmt, *args):  # quiet: the runner reads edgecert's output
        pass

    def _forward(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        up = self.server.upstream
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        conn = http.client.HTTPSConnection(up.hostname, up.port, context=ctx, timeout=15)
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in ("host", "connection", "content-length")}
        conn.request(self.command, self.path, body=body, headers=headers)
        r = conn.getresponse()
        data = r.read()
        result = (r.status, r.getheader("Content-Type", "application/octet-stream"), data)
        conn.close()
        return result

    def _handle(self):
        try:
            status, ctype, data = self._forward()
        except OSError as e:
            status, ctype, data = 502, "text/plain", f"upstream: {e}".encode()
        for rule in load_rules(self.server.rules):
            if rule.get("method", self.command) != self.command or rule.get("path", "") not in self.path:
                continue
            status = rule.get("status", status)
            ctype = rule.get("content_type", ctype)
            if "body" in rule:
                data = rule["body"].encode("utf-8")
            elif "body_b64" in rule:
                data = base64.b64decode(rule["body_b64"])
            elif "repeat" in rule:
                data = rule["repeat"][0].encode("utf-8") * int(rule["repeat"][1])
            for old, new in rule.get("replace", []):
                data = data.replace(old.encode("utf-8"), new.encode("utf-8"))
            break
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        try:
            self.wfile.write(data)
        except OSError:
            pass

    do_GET = do_POST = do_PUT = do_DELETE = _handle


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--listen", required=True)
    p.add_argument("--upstream", required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--rules", required=True)
    a = p.parse_args()
    host, port = a.listen.rsplit(":", 1)
    server = http.server.ThreadingHTTPServer((host, int(port)), Handler)
    server.daemon_threads = True
    server.upstream = urllib.parse.urlsplit(a.upstream)
    server.rules = a.rules
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    print(f"lying-node listening on {host}:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
