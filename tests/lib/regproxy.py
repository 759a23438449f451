#!/usr/bin/env python3
"""A fault-injecting HTTP proxy in front of the real registry, for tests.

    regproxy.py --upstream http://127.0.0.1:PORT --port-file FILE
                [--port N] [--rules FILE] [--log FILE] [--auth-log FILE]

Start-up, --port-file, --rules and --log as tests/lib/testserver.py says.
The real registry cannot misbehave on demand, so this forwards every
request to it and, where a rule matches, changes the answer.  --rules holds
a list; the first rule whose "path" matches (exact, or a prefix when it
ends in "*") and whose "method" (if given) matches applies:

  {"path": "/v2/x/manifests/1", "status": 429, "retry_after": 0, "times": 1}
        answer 429 TOOMANYREQUESTS (the first N times)
  {"path": "...", "status": 404, "body": "{...}"}   answer with this body
  {"path": "...", "query": "n=2&last=b", "status": 200, "body": "...",
   "headers": {"Link": "<...>; rel=\"next\""}}
        "query" must equal the request's query string ("" for none);
        "headers" are added to the answer (a registry that pages)
  {"path": "...", "tamper": true}    forward, but change one byte of the
        body (headers, Docker-Content-Digest included, kept)
  {"path": "...", "oversize": N}     forward, then pad the body with
        spaces to N bytes (still valid JSON)
  {"path": "...", "pad": N, "rate": 2}   forward, pad the body with
        trailing spaces to N bytes (any body, an empty one too), and send
        it at "rate" bytes per second (a registry that trickles: one byte
        every half second at 2)
  {"path": "...", "delay": 3}        wait this many seconds, then forward
        (logged as "METHOD PATH delay" when the wait starts)

"times": N applies a rule to its first N matches only.  Each request is logged
to --log as "METHOD PATH STATUS", and to --auth-log (when given) as
"METHOD PATH AUTHORIZATION" (the header's value, "-" when none): a test
that checks which credentials reached this host.
"""
import http.client
import json
import time
from urllib.parse import urlparse

import testserver

HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
       "proxy-authorization", "proxy-authenticate", "content-length", "host"}


class Handler(testserver.Handler):

    def send(self, status, headers, body, rate=None):
        self.answer(status, headers, body, rate,
                    log="%s %s %s" % (self.command, self.path.split("?", 1)[0], status))

    def handle_any(self):
        path, _, query = self.path.partition("?")
        n = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(n) if n else b""
        testserver.append_line(self.server.authlog, "%s %s %s" % (
            self.command, path, self.headers.get("Authorization") or "-"))
        rule = self.server.rules.first(path, self.command, query)
        if "delay" in rule:
            self.log_line("%s %s delay" % (self.command, path))
            time.sleep(rule["delay"])
        if "status" in rule:
            body = rule.get("body")
            if body is None:
                body = json.dumps({"errors": [{"code": "TOOMANYREQUESTS" if rule["status"] == 429 else "UNKNOWN",
                                               "message": "injected failure", "detail": {}}]})
            hdrs = [("Content-Type", "application/json")]
            if "retry_after" in rule:
                hdrs.append(("Retry-After", str(rule["retry_after"])))
            hdrs.extend((rule.get("headers") or {}).items())
            self.send(rule["status"], hdrs, body.encode())
            return
        up = urlparse(self.server.upstream)
        conn = http.client.HTTPConnection(up.hostname, up.port, timeout=30)
        hdrs = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        hdrs["Host"] = self.headers.get("Host", up.netloc)
        conn.request(self.command, self.path, body=data if n else None, headers=hdrs)
        resp = conn.getresponse()
        body = resp.read()
        conn.close()
        out = [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP]
        if rule.get("tamper") and body:
            i = body.rfind(b"}")
            body = body[:i] + b" }" + body[i + 1:] if i > 0 else body + b" "
        if rule.get("oversize") and len(body) < rule["oversize"]:
            i = body.rfind(b"}")
            pad = b" " * (rule["oversize"] - len(body))
            body = body[:i] + pad + body[i:]
        if rule.get("pad") and len(body) < rule["pad"]:
            body += b" " * (rule["pad"] - len(body))
        self.send(resp.status, out, body, rule.get("rate"))

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any


def main():
    ap = testserver.parser("A fault-injecting proxy in front of the registry.")
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--auth-log")
    a = ap.parse_args()
    testserver.serve(Handler, a, upstream=a.upstream, rules=testserver.Rules(a.rules),
                     authlog=a.auth_log)


if __name__ == "__main__":
    main()
