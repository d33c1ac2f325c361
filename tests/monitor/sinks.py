#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The notification tests' receivers: a real SMTP server (Debian's python3-aiosmtpd) and a
webhook receiver (http.server), both on free loopback ports, with all state in DIR.

  DIR/ports             "smtp PORT\\nhttp PORT\\n", written once both listen
  DIR/pid               this process
  DIR/mail/N.eml        each message as received (DATA, dot-unstuffed)
  DIR/mail/N.json       {"mail_from", "rcpt_tos", "headers": [[name, value]...], "subject",
                        "text", "html", "defects"}: parsed with the standard email package
  DIR/hooks/N.body      each POST body as received
  DIR/hooks/N.json      {"path", "content_type", "valid_json", "parsed"}
  DIR/smtp-fail         while it exists, DATA is answered 451 (a temporary refusal)
  DIR/http-fail         while it exists, a POST is answered 503

Usage: sinks.py DIR   (stopped with SIGTERM)
"""
import asyncio
import email
import email.policy
import json
import os
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.smtp import SMTP

state = sys.argv[1]
os.makedirs(os.path.join(state, "mail"), exist_ok=True)
os.makedirs(os.path.join(state, "hooks"), exist_ok=True)
lock = threading.Lock()


def next_name(sub):
    with lock:
        d = os.path.join(state, sub)
        n = len([f for f in os.listdir(d) if f.endswith(".json")]) + 1
        return os.path.join(d, "%03d" % n)


def write_atomically(path, data):
    with open(path + ".tmp", "wb") as f:
        f.write(data)
    os.rename(path + ".tmp", path)


class mail_handler:
    async def handle_DATA(self, server, session, envelope):
        if os.path.exists(os.path.join(state, "smtp-fail")):
            return "451 4.3.0 try again later"
        raw = envelope.original_content or envelope.content
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        text = html = None
        for part in msg.walk():
            if part.get_content_type() == "text/plain" and text is None:
                text = part.get_content()
            elif part.get_content_type() == "text/html" and html is None:
                html = part.get_content()
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "headers": [[k, str(v)] for k, v in msg.items()],
            "subject": str(msg["subject"]),
            "content_type": msg.get_content_type(),
            "text": text,
            "html": html,
            "defects": len(msg.defects) + sum(len(p.defects) for p in msg.walk()),
        }
        base = next_name("mail")
        write_atomically(base + ".eml", raw)
        write_atomically(base + ".json", json.dumps(meta).encode())
        return "250 2.0.0 queued"


class hook_handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n > 0 else b""
        if os.path.exists(os.path.join(state, "http-fail")):
            status, answer = 503, b"busy\r\nX-Injected: no"
        else:
            try:
                parsed, valid = json.loads(body.decode("utf-8")), True
            except ValueError:
                parsed, valid = None, False
            base = next_name("hooks")
            write_atomically(base + ".body", body)
            write_atomically(base + ".json", json.dumps({
                "path": self.path, "content_type": self.headers.get("Content-Type"),
                "valid_json": valid, "parsed": parsed}).encode())
            status, answer = 204, b""
        self.send_response(status)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


async def main():
    loop = asyncio.get_running_loop()
    smtp = await loop.create_server(lambda: SMTP(mail_handler(), hostname="sink.test"),
                                    "127.0.0.1", 0)
    http = ThreadingHTTPServer(("127.0.0.1", 0), hook_handler)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    write_atomically(os.path.join(state, "pid"), str(os.getpid()).encode())
    write_atomically(os.path.join(state, "ports"), ("smtp %d\nhttp %d\n" % (
        smtp.sockets[0].getsockname()[1], http.server_address[1])).encode())
    await stop.wait()
    http.shutdown()
    smtp.close()


asyncio.run(main())
