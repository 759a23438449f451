#!/usr/bin/env python3
"""A loopback HTTP server for cdkit's tests: serves a folder, with faults.

    httpd.py --root DIR --port-file FILE [--port N] [--log FILE]
             [--rules FILE] [--requests FILE] [--tls-cert C --tls-key K]

Start-up, --port-file, --rules and --log as tests/lib/testserver.py says.
Supports GET/HEAD, single "Range: bytes=N-[M]", keep-alive.

--rules holds a list of rules; the first whose "path" matches (exact, or a
prefix when it ends in "*") applies:

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

PUT and POST (an API such as Quay's) are answered with JSON: a rule's
"status" (default 200) and "json" (default {}); each is appended to
--requests FILE as a JSON line {"method", "path", "headers" (names
lowercased), "body"} so a test can check exactly what was sent:

  {"path": "/api/v1/repository/org/x", "status": 403,
   "json": {"error_message": "Unauthorized"}}
  {"path": "/api/*", "delay": 2}              answer after 2 seconds

"times": N applies a rule to its first N matches only; without it the rule
always applies.  Each request is logged as "METHOD PATH STATUS RANGE" to
--log when its answer starts; with --sent-log, a file's body once it ended
(sent whole, cut, or the client went away) as "SENT PATH BYTES" there (so
--log holds requests only).
"""
import email.utils
import json
import os
import socket
import time

import testserver


class Handler(testserver.Handler):
    server_version = "cdkit-test-httpd"

    def line(self, status, rng=""):
        return "%s %s %s %s" % (self.command, self.path, status, rng or "-")

    def log_sent(self, n):
        testserver.append_line(self.server.sent_log, "SENT %s %d" % (self.path, n))

    def plain(self, status, text, extra=None):
        headers = [("Content-Type", "text/plain")] + list((extra or {}).items())
        self.answer(status, headers, text.encode(), log=self.line(status))

    def head(self, status, length, extra=()):
        """Status and headers of a body of length bytes sent by the caller."""
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(length))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()

    def zeros(self, length, rate):
        self.head(200, length)
        self.log_line(self.line(200))
        if self.command == "HEAD":
            return
        sent, step = 0, testserver.step_of(rate)
        try:
            while sent < length:
                n = min(step, length - sent)
                self.wfile.write(b"\0" * n)
                self.wfile.flush()
                sent += n
                testserver.pace(n, rate)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_HEAD(self):
        self.do_GET()

    def do_PUT(self):
        self.do_write()

    def do_POST(self):
        self.do_write()

    def do_write(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(n, 16 << 20)).decode("utf-8", "replace")
        line = {"method": self.command, "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body}
        testserver.append_line(self.server.requests, json.dumps(line))
        rule = self.server.rules.first(self.path.split("?", 1)[0])
        if "delay" in rule:
            time.sleep(rule["delay"])
        status = rule.get("status", 200)
        out = json.dumps(rule.get("json", {})).encode()
        self.answer(status, [("Content-Type", "application/json")], out, log=self.line(status))

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        rule = self.server.rules.first(path)
        if "hang" in rule:
            self.log_line(self.line("hang"))
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
        extra = [("Accept-Ranges", "bytes")]
        if rule.get("validators", True):
            mtime = int(os.path.getmtime(fs))
            extra.append(("Last-Modified", email.utils.formatdate(mtime, usegmt=True)))
            extra.append(("ETag", '"%x-%x"' % (mtime, size)))
        if status == 206:
            extra.append(("Content-Range", "bytes %d-%d/%d" % (start, end, size)))
        self.head(status, length, extra)
        self.log_line(self.line(status, rng))
        if self.command == "HEAD":
            return
        self.sent = 0
        try:
            self.send_file(fs, start, length, rule.get("cut"), rule.get("rate"))
        finally:
            self.log_sent(self.sent)

    def send_file(self, fs, start, length, cut, rate):
        """length bytes of fs from start; at most cut of them, then close."""
        sent = 0
        with open(fs, "rb") as f:
            f.seek(start)
            while sent < length:
                n = min(testserver.step_of(rate), length - sent)
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
                self.sent = sent
                testserver.pace(len(data), rate)


def main():
    ap = testserver.parser("Serve a folder on loopback, with faults.")
    ap.add_argument("--root", required=True)
    ap.add_argument("--requests")
    ap.add_argument("--sent-log")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    a = ap.parse_args()
    if not os.path.isdir(a.root):
        ap.error("--root %s: not a folder" % a.root)
    testserver.serve(Handler, a, a.tls_cert, a.tls_key,
                     root=os.path.realpath(a.root), rules=testserver.Rules(a.rules),
                     requests=a.requests, sent_log=a.sent_log)


if __name__ == "__main__":
    main()
