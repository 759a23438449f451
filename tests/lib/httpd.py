#!/usr/bin/env python3
"""A loopback HTTP server for cdkit's tests: serves a folder, with faults.

    httpd.py --root DIR --port-file FILE [--log FILE] [--rules FILE]
             [--tls-cert C --tls-key K]

Binds 127.0.0.1 on a free port and writes the port to --port-file.
Supports GET/HEAD, single "Range: bytes=N-[M]", keep-alive.

--rules names a JSON file re-read on every request, so a test can change
the server's behaviour while it runs. It holds a list of rules; the first
whose "path" matches (exact, or a prefix when it ends in "*") applies:

  {"path": "/x", "status": 500, "times": 1}   answer 500 the first N times
  {"path": "/x", "status": 429, "retry_after": 1, "times": 1}
  {"path": "/x", "hang": 30}                   accept, then say nothing
  {"path": "/x", "cut": 1000, "times": 1}      announce the full length,
                                               send 1000 bytes, close
  {"path": "/x", "rate": 65536}                bytes per second (2: a trickle,
                                               one byte every half second)
  {"path": "/x", "length": 1000000000000}      announce this Content-Length and
                                               send zeros (no file needed;
                                               with "rate" a peer that never ends)
  {"path": "/x", "body": "text"}               answer with this body
  {"path": "/x", "norange": true}              ignore Range: always the whole file
  {"path": "/x", "redirect": "/y"}             answer 302 with Location /y
  {"path": "/x", "file": "/y"}                 serve the file /y under /x (an
                                               upstream file replaced)
  {"path": "/x", "validators": false}          no ETag nor Last-Modified

A file is served as nginx serves it: with Last-Modified (its mtime) and
ETag "<mtime hex>-<size hex>".

"times" counts per rule (index in the list) for the life of the server;
without it the rule always applies.  Each request is logged as
"METHOD PATH STATUS RANGE" to --log.
"""
import argparse
import email.utils
import json
import os
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COUNTS = {}
LOCK = threading.Lock()


def load_rules(path):
    if not path or not os.path.exists(path):
        return []
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return []


def chunk_of(rate):
    """Bytes per write: a quarter second's worth at rate, so slow rates trickle."""
    return max(1, min(65536, int(rate) // 4)) if rate else 65536


def match(rules, path):
    for i, r in enumerate(rules):
        p = r.get("path", "")
        if p == path or (p.endswith("*") and path.startswith(p[:-1])):
            if "times" in r:
                with LOCK:
                    n = COUNTS.get(i, 0)
                    if n >= r["times"]:
                        continue
                    COUNTS[i] = n + 1
            return r
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "cdkit-test-httpd"

    def log_message(self, fmt, *args):
        pass

    def log(self, status, rng=""):
        if self.server.logfile:
            with LOCK, open(self.server.logfile, "a") as f:
                f.write("%s %s %s %s\n" % (self.command, self.path, status, rng or "-"))

    def plain(self, status, text, extra=None):
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.log(status)

    def zeros(self, length, rate):
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(length))
        self.end_headers()
        self.log(200)
        if self.command == "HEAD":
            return
        sent, step = 0, chunk_of(rate)
        try:
            while sent < length:
                n = min(step, length - sent)
                self.wfile.write(b"\0" * n)
                self.wfile.flush()
                sent += n
                if rate:
                    time.sleep(n / float(rate))
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        rule = match(load_rules(self.server.rules), path) or {}
        if "hang" in rule:
            self.log("hang")
            time.sleep(rule["hang"])
            self.close_connection = True
            return
        if "status" in rule:
            extra = {}
            if "retry_after" in rule:
                extra["Retry-After"] = str(rule["retry_after"])
            self.plain(rule["status"], "injected failure\n", extra)
            return
        if "body" in rule:
            self.plain(200, rule["body"])
            return
        if "redirect" in rule:
            self.plain(302, "moved\n", {"Location": rule["redirect"]})
            return
        if "length" in rule:
            self.zeros(rule["length"], rule.get("rate"))
            return
        served = rule.get("file", path)
        fs = os.path.normpath(os.path.join(self.server.root, served.lstrip("/")))
        if not fs.startswith(self.server.root) or not os.path.isfile(fs):
            self.plain(404, "not found\n")
            return
        size = os.path.getsize(fs)
        start, end = 0, size - 1
        status = 200
        rng = None if rule.get("norange") else self.headers.get("Range")
        if rng and rng.startswith("bytes="):
            a, _, b = rng[6:].partition("-")
            try:
                start = int(a)
                end = int(b) if b else size - 1
            except ValueError:
                start, end = 0, size - 1
            if start >= size:
                self.plain(416, "range not satisfiable\n", {"Content-Range": "bytes */%d" % size})
                return
            status = 206
        length = end - start + 1
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(length))
        self.send_header("Accept-Ranges", "bytes")
        if rule.get("validators", True):
            mtime = int(os.path.getmtime(fs))
            self.send_header("Last-Modified", email.utils.formatdate(mtime, usegmt=True))
            self.send_header("ETag", '"%x-%x"' % (mtime, size))
        if status == 206:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, end, size))
        self.end_headers()
        self.log(status, rng)
        if self.command == "HEAD":
            return
        cut = rule.get("cut")
        rate = rule.get("rate")
        sent = 0
        with open(fs, "rb") as f:
            f.seek(start)
            while sent < length:
                n = min(chunk_of(rate), length - sent)
                if cut is not None:
                    n = min(n, cut - sent)
                    if n <= 0:
                        self.wfile.flush()
                        self.close_connection = True
                        try:
                            self.connection.shutdown(socket.SHUT_RDWR)
                        except OSError:
                            pass
                        return
                data = f.read(n)
                if not data:
                    break
                try:
                    self.wfile.write(data)
                    if rate:
                        self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    return
                sent += len(data)
                if rate:
                    time.sleep(len(data) / float(rate))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log")
    ap.add_argument("--rules")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    a = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    srv.daemon_threads = True
    srv.root = os.path.realpath(a.root)
    srv.logfile = a.log
    srv.rules = a.rules
    if a.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.tls_cert, a.tls_key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, a.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
