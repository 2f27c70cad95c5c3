#!/usr/bin/env python3
"""A CRL distribution point for crl_test.sh (not a test itself).

Usage: crl_test_server.py DIR PORT_FILE [CERT KEY]

Serves DIR over HTTP (or HTTPS with CERT/KEY) on a free loopback port, with
Python's own http.server (Last-Modified / If-Modified-Since included), and
writes the port to PORT_FILE once it listens. Two paths are not files: a
redirect loop (/loop-a -> /loop-b -> /loop-a). Every request is logged on
stderr, so the test can see that edgecert asked.
"""
import functools
import http.server
import os
import ssl
import sys


class Handler(http.server.SimpleHTTPRequestHandler):
    def do_GET(self):
        loops = {"/loop-a": "/loop-b", "/loop-b": "/loop-a"}
        if self.path in loops:
            self.send_response(302)
            self.send_header("Location", loops[self.path])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        super().do_GET()

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.command if hasattr(self, "command") else "-",
                                      fmt % args))
        sys.stderr.flush()


def main():
    if len(sys.argv) not in (3, 5):
        sys.exit(__doc__)
    folder, port_file = sys.argv[1], sys.argv[2]
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=folder))
    if len(sys.argv) == 5:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(sys.argv[3], sys.argv[4])
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    tmp = port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.replace(tmp, port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
