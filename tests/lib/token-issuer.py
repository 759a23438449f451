#!/usr/bin/env python3
"""A small registry token issuer for cdkit's tests (docker token auth).

    token-issuer.py --key KEY.pem --cert CERT.pem --users FILE
                    --issuer NAME --service NAME --port-file FILE
                    [--rules FILE] [--log FILE] [--issued FILE]

Binds 127.0.0.1 on a free port (written to --port-file) and answers
GET /token?service=S&scope=A&scope=B with {"token", "access_token",
"expires_in", "issued_at"}: an RS256 JWT signed with KEY (the `openssl`
command line signs), carrying CERT in its x5c header so that a registry
whose rootcertbundle holds CERT trusts it.

POST /token with an OAuth2 form (grant_type=refresh_token, refresh_token,
service, scope, client_id), as docker sends an identity token, answers
the same when the refresh token is a line "TOKEN USER" of --refresh, else
401; the answer also carries "refresh_token".

Credentials: a Basic Authorization header must match a "user:password"
line of --users, else 401.  With credentials the token grants every action
asked for; without (anonymous) it grants "pull" only.

--rules names a JSON object re-read on every request:
  {"expired": true}   tokens that expired an hour ago
  {"deny": true}      tokens that grant nothing
  {"deny": ["org/a", "org/b"]}   tokens that grant nothing on those
                      repositories (the others as usual)
  {"expires_in": "1e308"}   this JSON text as the answer's expires_in
                      (any number a hostile issuer might send: "nan" too)
Each request is logged to --log as "<GET|POST> <scope...> <user|-> <status>"
(never a password).  --issued gets every token issued, one a line, so a
test can look for them where they must not be.
"""
import argparse
import base64
import json
import os
import subprocess
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

LOCK = threading.Lock()


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def load_json(path):
    if not path or not os.path.exists(path):
        return {}
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def log(self, scopes, user, status):
        if self.server.logfile:
            with LOCK, open(self.server.logfile, "a") as f:
                f.write("%s %s %s %d\n" % (self.command, ",".join(scopes) or "-", user or "-", status))

    def reply(self, status, obj, extra=None):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def reply_raw(self, status, body):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def user(self):
        """(user, ok): user None when anonymous; ok False on bad credentials."""
        h = self.headers.get("Authorization")
        if not h:
            return None, True
        if not h.startswith("Basic "):
            return None, False
        try:
            u, _, p = base64.b64decode(h[6:], validate=True).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None, False
        return u, self.server.users.get(u) == p

    def do_POST(self):
        url = urlparse(self.path)
        n = int(self.headers.get("Content-Length") or 0)
        form = parse_qs(self.rfile.read(n).decode("ascii", "replace"))
        scopes = []
        for s in form.get("scope", []):
            scopes.extend(s.split(" "))
        refresh = form.get("refresh_token", [""])[0]
        user = self.server.refresh.get(refresh)
        if url.path != "/token" or form.get("grant_type") != ["refresh_token"] or not user:
            self.log(scopes, user, 401)
            self.reply(401, {"error": "invalid_grant"})
            return
        self.issue(form, scopes, user, refresh)

    def do_GET(self):
        url = urlparse(self.path)
        q = parse_qs(url.query)
        scopes = []
        for s in q.get("scope", []):
            scopes.extend(s.split(" "))
        user, ok = self.user()
        if url.path != "/token":
            self.log(scopes, user, 404)
            self.reply(404, {"errors": [{"code": "NOT_FOUND", "message": "no such path"}]})
            return
        if not ok:
            self.log(scopes, user, 401)
            self.reply(401, {"errors": [{"code": "UNAUTHORIZED", "message": "bad credentials"}]},
                       {"WWW-Authenticate": 'Basic realm="cdkit-token-issuer"'})
            return
        self.issue(q, scopes, user, None)

    def issue(self, q, scopes, user, refresh):
        rules = load_json(self.server.rules)
        access = []
        for s in scopes:
            parts = s.split(":")
            if len(parts) < 3 or rules.get("deny") is True:
                continue
            typ, name, actions = parts[0], ":".join(parts[1:-1]), parts[-1].split(",")
            if isinstance(rules.get("deny"), list) and name in rules["deny"]:
                continue
            if user is None:
                actions = [a for a in actions if a == "pull"]
            access.append({"type": typ, "name": name, "actions": actions})
        now = int(time.time())
        if rules.get("expired"):
            now -= 7200
        claims = {
            "iss": self.server.issuer,
            "sub": user or "",
            "aud": q.get("service", [self.server.service])[0],
            "exp": now + 300,
            "nbf": now - 10,
            "iat": now,
            "jti": str(uuid.uuid4()),
            "access": access,
        }
        header = {"typ": "JWT", "alg": "RS256", "x5c": [self.server.cert_b64]}
        signing_input = (b64url(json.dumps(header).encode()) + "." +
                         b64url(json.dumps(claims).encode())).encode()
        sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", self.server.key],
                             input=signing_input, capture_output=True, check=True).stdout
        token = signing_input.decode() + "." + b64url(sig)
        self.log(scopes, user, 200)
        if self.server.issued:
            with LOCK, open(self.server.issued, "a") as f:
                f.write(token + "\n")
        answer = {"token": token, "access_token": token, "expires_in": 300,
                  "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))}
        if refresh:
            answer = {"access_token": token, "refresh_token": refresh, "expires_in": 300}
        if "expires_in" in rules:
            body = json.dumps(answer).replace('"expires_in": 300', '"expires_in": ' + str(rules["expires_in"]))
            self.reply_raw(200, body.encode())
            return
        self.reply(200, answer)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--key", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--users", required=True)
    ap.add_argument("--issuer", required=True)
    ap.add_argument("--service", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--rules")
    ap.add_argument("--log")
    ap.add_argument("--issued")
    ap.add_argument("--refresh")
    a = ap.parse_args()
    der = subprocess.run(["openssl", "x509", "-in", a.cert, "-outform", "DER"],
                         capture_output=True, check=True).stdout
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.key = a.key
    srv.cert_b64 = base64.b64encode(der).decode()
    srv.issuer = a.issuer
    srv.service = a.service
    srv.rules = a.rules
    srv.logfile = a.log
    srv.issued = a.issued
    srv.users = {}
    with open(a.users) as f:
        for line in f:
            u, _, p = line.rstrip("\n").partition(":")
            if u:
                srv.users[u] = p
    srv.refresh = {}
    if a.refresh:
        with open(a.refresh) as f:
            for line in f:
                t, _, u = line.strip().partition(" ")
                if t and u:
                    srv.refresh[t] = u
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, a.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
