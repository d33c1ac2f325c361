#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""APPENDs messages to an IMAP folder over one plaintext loopback connection, in order.

The e2e suite fills Dovecot folders through their Maildir; a Cyrus folder has no such door, so
the suite APPENDs instead (issue 23). Not the project's own IMAP code, so a bug there cannot
hide itself. Cyrus syncs every APPEND to disk (about 65 ms each on a busy CI machine), so the
messages go in MULTIAPPEND commands (RFC 3502) of up to 500, with LITERAL+ (RFC 7888)
literals: one sync per command. Servers without MULTIAPPEND get one APPEND per message.

  imap_append.py HOST PORT USER FOLDER [--seen] <FILES   (one path a line; password from
                                                          $TLSRPT_TEST_IMAP_PASSWORD)
"""
import imaplib
import os
import socket
import sys

BATCH = 500


def quoted(s: str) -> bytes:
    return b'"' + s.replace("\\", "\\\\").replace('"', '\\"').encode() + b'"'


def read_tagged(f, tag: bytes) -> bytes:
    while True:
        line = f.readline()
        if not line:
            raise SystemExit("the server closed the connection")
        if line.startswith(tag + b" "):
            return line


def main() -> int:
    host, port, user, folder = sys.argv[1:5]
    seen = "--seen" in sys.argv[5:]
    paths = [line.rstrip("\n") for line in sys.stdin if line.strip()]
    password = os.environ["TLSRPT_TEST_IMAP_PASSWORD"]

    m = imaplib.IMAP4(host, int(port))
    m.login(user, password)
    caps = {c.upper() for c in m.capabilities}
    if "MULTIAPPEND" not in caps or "LITERAL+" not in caps:
        for path in paths:
            with open(path, "rb") as f:
                typ, answer = m.append(folder, "(\\Seen)" if seen else None, None, f.read())
            if typ != "OK":
                print(f"cannot APPEND {path} to {folder}: {answer!r}", file=sys.stderr)
                return 1
        m.logout()
        return 0
    m.logout()

    # imaplib has no MULTIAPPEND: the raw protocol, on a connection of our own.
    s = socket.create_connection((host, int(port)))
    f = s.makefile("rb")
    f.readline()  # greeting
    s.sendall(b"L LOGIN " + quoted(user) + b" " + quoted(password) + b"\r\n")
    if not read_tagged(f, b"L").startswith(b"L OK"):
        raise SystemExit("cannot log in as " + user)
    flags = b" (\\Seen)" if seen else b" ()"
    for n, start in enumerate(range(0, len(paths), BATCH)):
        tag = b"A%d" % n
        cmd = [tag + b" APPEND " + quoted(folder)]
        for path in paths[start:start + BATCH]:
            with open(path, "rb") as fh:
                data = fh.read()
            # Bare LF as CRLF, as imaplib does: RFC 5322 lines end in CRLF.
            data = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
            cmd.append(flags + b" {%d+}\r\n" % len(data) + data)
        s.sendall(b"".join(cmd) + b"\r\n")
        answer = read_tagged(f, tag)
        if not answer.startswith(tag + b" OK"):
            print(f"cannot APPEND to {folder}: {answer!r}", file=sys.stderr)
            return 1
    s.sendall(b"Z LOGOUT\r\n")
    s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
