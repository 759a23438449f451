#!/usr/bin/env python3
"""A small registry token issuer for cdkit's tests (docker token auth).

    token-issuer.py --key KEY.pem --cert CERT.pem --users FILE
                    --issuer NAME --service NAME --port-file FILE
                    [--port N] [--rules FILE] [--log FILE] [--issued FILE]

Start-up, --port-file, --rules and --log as tests/lib/testserver.py says.
It answers GET /token?service=S&scope=A&scope=B with {"token",
"access_token", "expires_in", "issued_at"}: an RS256 JWT signed with KEY
(the `openssl` command line signs), carrying CERT in its x5c header so that
a registry whose rootcertbundle holds CERT trusts it.

Credentials: a Basic Authorization header must match a "user:password"
line of --users, else 401.  With credentials the token grants every action
asked for; without (anonymous) it grants "pull" only.

--rules holds an object:
  {"expired": true}   tokens that expired an hour ago
  {"deny": true}      tokens that grant nothing
  {"deny": ["org/a", "org/b"]}   tokens that grant nothing on those
                      repositories (the others as usual)
  {"expires_in": "1e308"}   this JSON text as the answer's expires_in
                      (any number a hostile issuer might send: "nan" too)
Each request is logged to --log as "GET <scope...> <user|-> <status>"
(never a password).  --issued gets every token issued, one a line, so a
test can look for them where they must not be.
"""
import base64
import json
import subprocess
import time
import uuid
from urllib.parse import parse_qs, urlparse

import testserver


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Handler(testserver.Handler):

    def log(self, scopes, user, status):
        self.log_line("GET %s %s %d" % (",".join(scopes) or "-", user or "-", status))

    def reply(self, status, obj, extra=None):
        self.reply_raw(status, json.dumps(obj).encode(), extra)

    def reply_raw(self, status, body, extra=None):
        headers = [("Content-Type", "application/json")] + list((extra or {}).items())
        self.answer(status, headers, body)

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
        rules = testserver.load_json(self.server.rules, {})
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
        testserver.append_line(self.server.issued, token)
        answer = {"token": token, "access_token": token, "expires_in": 300,
                  "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))}
        if "expires_in" in rules:
            body = json.dumps(answer).replace('"expires_in": 300', '"expires_in": ' + str(rules["expires_in"]))
            self.reply_raw(200, body.encode())
            return
        self.reply(200, answer)


def main():
    ap = testserver.parser("A registry token issuer.")
    ap.add_argument("--key", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--users", required=True)
    ap.add_argument("--issuer", required=True)
    ap.add_argument("--service", required=True)
    ap.add_argument("--issued")
    a = ap.parse_args()
    der = subprocess.run(["openssl", "x509", "-in", a.cert, "-outform", "DER"],
                         capture_output=True, check=True).stdout
    users = {}
    with open(a.users) as f:
        for line in f:
            u, _, p = line.rstrip("\n").partition(":")
            if u:
                users[u] = p
    testserver.serve(Handler, a, key=a.key, cert_b64=base64.b64encode(der).decode(),
                     issuer=a.issuer, service=a.service, rules=a.rules, issued=a.issued,
                     users=users)


if __name__ == "__main__":
    main()
