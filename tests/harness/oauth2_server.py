#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A small OAuth2 authorization server for the test harness (started by scripts/services.sh).

It stands in for Microsoft's or Google's token endpoint (our own logic's peer, so a fake is
fine) and answers the real Dovecot's token introspection (RFC 7662), so the IMAP login the
collector makes with a token it got here is checked by Dovecot itself.

  POST /token        RFC 6749 §4.4 client_credentials and §6 refresh_token grants (form body)
  POST /introspect   RFC 7662: form body token=...; {"active": ..., "username": ...}
  POST /admin/client JSON {client_id, client_secret, username, expires_in, refresh_token,
                     rotate}: registers (or replaces) a client
  POST /admin/revoke JSON {client_id}: the client is gone (invalid_client), its tokens inactive
  POST /admin/expire JSON {client_id}: its access tokens expire now (introspection says so)
  GET  /admin/stats?client_id=...: what the client asked for and what Dovecot checked

Usage: oauth2_server.py PORT PIDFILE
"""
import json
import os
import secrets
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()
clients = {}  # client_id -> dict
tokens = {}  # access token -> {client_id, username, expires_at, active}
refresh_tokens = {}  # refresh token -> client_id


def stats_of(cid):
    return clients.setdefault(cid, {"registered": False}).setdefault(
        "stats", {"token_requests": 0, "grants": [], "issued": 0, "introspections": 0,
                  "refused_introspections": 0, "last_form": {}})


class handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet: the tests read the answers, not a log
        pass

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def form(self):
        return {k: v[0] for k, v in urllib.parse.parse_qs(self.body().decode()).items()}

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        if url.path == "/admin/stats":
            cid = urllib.parse.parse_qs(url.query).get("client_id", [""])[0]
            with lock:
                return self.reply(200, stats_of(cid))
        self.reply(404, {"error": "not_found"})

    def do_POST(self):
        path = urllib.parse.urlparse(self.path).path
        if path == "/token":
            return self.token(self.form())
        if path == "/introspect":
            return self.introspect(self.form())
        if path.startswith("/admin/"):
            return self.admin(path[len("/admin/"):], json.loads(self.body() or b"{}"))
        self.reply(404, {"error": "not_found"})

    def token(self, f):
        cid = f.get("client_id", "")
        with lock:
            st = stats_of(cid)
            st["token_requests"] += 1
            st["grants"].append(f.get("grant_type", ""))
            st["last_form"] = {k: ("<set>" if k in ("client_secret", "refresh_token") else v)
                               for k, v in f.items()}
            c = clients.get(cid)
            if not c or not c.get("registered") or c.get("revoked"):
                return self.reply(401, {
                    "error": "invalid_client",
                    "error_description": "AADSTS7000215: Invalid client secret provided "
                                         "(client " + cid + " is unknown or revoked)."})
            g = f.get("grant_type")
            if g == "client_credentials":
                if f.get("client_secret") != c["client_secret"]:
                    return self.reply(401, {"error": "invalid_client",
                                            "error_description": "Invalid client secret."})
            elif g == "refresh_token":
                rt = f.get("refresh_token", "")
                if refresh_tokens.get(rt) != cid:
                    return self.reply(400, {"error": "invalid_grant",
                                            "error_description": "Token has been expired or "
                                                                 "revoked."})
                if c.get("client_secret") and f.get("client_secret") != c["client_secret"]:
                    return self.reply(401, {"error": "invalid_client",
                                            "error_description": "Invalid client secret."})
            else:
                return self.reply(400, {"error": "unsupported_grant_type"})
            access = "at-" + secrets.token_urlsafe(24)
            tokens[access] = {"client_id": cid, "username": c["username"],
                              "expires_at": time.time() + c["expires_in"], "active": True}
            st["issued"] += 1
            answer = {"access_token": access, "token_type": "Bearer",
                      "expires_in": c["expires_in"]}
            if g == "refresh_token" and c.get("rotate"):
                del refresh_tokens[f["refresh_token"]]
                new_rt = "rt-" + secrets.token_urlsafe(24)
                refresh_tokens[new_rt] = cid
                c["refresh_token"] = new_rt
                answer["refresh_token"] = new_rt
            return self.reply(200, answer)

    def introspect(self, f):
        t = f.get("token", "")
        if not t:
            auth = self.headers.get("Authorization", "")
            t = auth[len("Bearer "):] if auth.startswith("Bearer ") else ""
        with lock:
            info = tokens.get(t)
            if info is None:
                return self.reply(200, {"active": False})
            st = stats_of(info["client_id"])
            st["introspections"] += 1
            active = info["active"] and time.time() < info["expires_at"]
            if not active:
                st["refused_introspections"] += 1
                return self.reply(200, {"active": False})
            return self.reply(200, {"active": True, "username": info["username"],
                                    "client_id": info["client_id"]})

    def admin(self, what, j):
        cid = j.get("client_id", "")
        with lock:
            if what == "client":
                c = clients.setdefault(cid, {})
                c.update({"registered": True, "revoked": False,
                          "client_secret": j.get("client_secret", ""),
                          "username": j["username"], "expires_in": int(j.get("expires_in", 3600)),
                          "rotate": bool(j.get("rotate", False))})
                stats_of(cid)
                if j.get("refresh_token"):
                    refresh_tokens[j["refresh_token"]] = cid
                return self.reply(200, {"ok": True})
            c = clients.get(cid)
            if not c:
                return self.reply(404, {"error": "no such client"})
            if what in ("revoke", "expire"):
                if what == "revoke":
                    c["revoked"] = True
                for info in tokens.values():
                    if info["client_id"] == cid:
                        info["active"] = False
                return self.reply(200, {"ok": True})
        self.reply(404, {"error": "not_found"})


def main():
    port, pidfile = int(sys.argv[1]), sys.argv[2]
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    with open(pidfile + ".tmp", "w") as f:
        f.write(str(os.getpid()) + "\n")
    os.rename(pidfile + ".tmp", pidfile)
    server.serve_forever()


if __name__ == "__main__":
    main()
