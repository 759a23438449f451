"""What cdkit's loopback test servers share (httpd.py, regproxy.py,
token-issuer.py, slowproxy.py import it from this folder).

Start-up: every server binds 127.0.0.1 (on --port, 0 for a free one) and,
once it listens, writes the port it got to --port-file (whole: written
aside, then renamed), which is what the helpers of tests/lib/*.bash wait
for.  A server that cannot start exits before it writes that file.

Rules: --rules names a JSON file re-read on every request, so that a test
can change a server's behaviour while it runs (a missing or half-written
file reads as no rules).  Rules() picks the first rule of a list that
matches a request; "times": N makes a rule apply to its first N matches
only, counted per rule (its index in the list) for the life of the server.

Logging: --log names a file that gets one line per request, in the form
each server documents; the http.server's own log lines are dropped.
"""
import argparse
import json
import os
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()


def parser(description, log=True, rules=True):
    """The options the servers share: --port-file, --port, and --log and
    --rules unless the server has no use for them."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--port", type=int, default=0)
    if log:
        ap.add_argument("--log")
    if rules:
        ap.add_argument("--rules")
    return ap


def load_json(path, empty):
    """The JSON of path, or empty when there is none yet (or it is being written)."""
    if not path or not os.path.exists(path):
        return empty
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return empty


class Rules:
    """A --rules file of fault rules: a list, the first matching rule applies."""

    def __init__(self, path):
        self.path = path
        self.counts = {}

    def first(self, path, method=None, query=None):
        """The rule for a request, or {}.  A rule matches on "path" (exact, or
        a prefix when it ends in "*"), and on "method" and "query" when it
        names them."""
        for i, r in enumerate(load_json(self.path, [])):
            p = r.get("path", "")
            if r.get("method") and r["method"] != method:
                continue
            if "query" in r and r["query"] != query:
                continue
            if not (p == path or (p.endswith("*") and path.startswith(p[:-1]))):
                continue
            if "times" in r:
                with LOCK:
                    n = self.counts.get(i, 0)
                    if n >= r["times"]:
                        continue
                    self.counts[i] = n + 1
            return r
        return {}


def append_line(path, line):
    """Append one line to a log file (none when path is None)."""
    if path:
        with LOCK, open(path, "a") as f:
            f.write(line + "\n")


def step_of(rate):
    """Bytes per write: a quarter second's worth at rate, so that slow rates trickle."""
    return max(1, min(65536, int(rate) // 4)) if rate else 65536


def pace(n, rate):
    """After sending n bytes at rate bytes per second: wait as long as they take."""
    if rate:
        time.sleep(n / float(rate))


class Handler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive, quiet, and the answers the servers share."""
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def log_line(self, line):
        append_line(self.server.logfile, line)

    def answer(self, status, headers, body, rate=None, log=None):
        """Send status, headers (pairs), Content-Length and body, at rate
        bytes per second when rate is given; log (a line for --log) is
        written once the headers are out, before the body.  Returns False
        when the client went away."""
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if log:
            self.log_line(log)
        if self.command == "HEAD":
            return True
        try:
            if not rate:
                self.wfile.write(body)
                return True
            step = step_of(rate)
            for i in range(0, len(body), step):
                chunk = body[i:i + step]
                self.wfile.write(chunk)
                pace(len(chunk), rate)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
            return False
        return True


def serve(handler, args, tls_cert=None, tls_key=None, **attrs):
    """Serve HTTP (HTTPS with tls_cert and tls_key) with handler on
    127.0.0.1:args.port for ever, the port written to args.port_file once
    it listens.  attrs become attributes of the server, which handlers read
    as self.server.NAME; logfile is args.log."""
    srv = ThreadingHTTPServer(("127.0.0.1", args.port), handler)
    srv.daemon_threads = True
    srv.logfile = getattr(args, "log", None)
    for k, v in attrs.items():
        setattr(srv, k, v)
    if tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(tls_cert, tls_key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    write_port_file(args.port_file, srv.server_address[1])
    srv.serve_forever()


def listen_tcp(port):
    """A listening TCP socket on 127.0.0.1:port (0: a free one)."""
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(16)
    return ls


def write_port_file(path, port):
    """Say the port, whole: a reader never sees half a number."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(port))
    os.rename(tmp, path)
