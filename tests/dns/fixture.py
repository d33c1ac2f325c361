#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The DNS side of the tests of lib/tlsrpt/dns: a real DNS server on loopback, and mail signed
with the suite's own DKIM keys.

    fixture.py serve STATE_DIR

makes (once, cached under STATE_DIR by the hash of this file) the DKIM keys, the zones (one
DNSSEC-signed with its own trust anchor, one signed and then tampered with, the others
unsigned) and the signed mails; starts Debian's unbound as an authoritative server (auth-zone)
on a free loopback port, plus a "black hole" that takes queries and never answers; prints
`key=value` lines ending with `ready`; and stops everything when its parent goes away or on
SIGTERM. Nothing here touches the network beyond 127.0.0.1.
"""
import fcntl
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import dkim  # Debian: python3-dkim

HERE = os.path.dirname(os.path.abspath(__file__))
REPORT_JSON = (
    '{"organization-name":"Reporter Test","date-range":{"start-datetime":'
    '"2026-11-01T00:00:00Z","end-datetime":"2026-11-01T23:59:59Z"},"contact-info":'
    '"tlsrpt@%(domain)s","report-id":"%(report_id)s","policies":[{"policy":{"policy-type":'
    '"sts","policy-string":["version: STSv1","mode: testing","mx: mx.example.org",'
    '"max_age: 86400"],"policy-domain":"example.org","mx-host":["mx.example.org"]},'
    '"summary":{"total-successful-session-count":12,"total-failure-session-count":0}}]}')

SIGNED_HEADERS = [b"from", b"to", b"subject", b"date", b"message-id", b"tls-report-domain",
                  b"tls-report-submitter", b"mime-version", b"content-type"]


def run(*cmd, cwd=None):
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def report_mail(domain, report_id):
    body = REPORT_JSON % {"domain": domain, "report_id": report_id}
    return (
        f"From: TLS Reports <tlsrpt@{domain}>\r\n"
        "To: tlsrpt@example.org\r\n"
        f"Subject: Report Domain: example.org Submitter: {domain} Report-ID: <{report_id}>\r\n"
        "Date: Mon, 02 Nov 2026 01:00:00 +0000\r\n"
        f"Message-ID: <{report_id}@{domain}>\r\n"
        "TLS-Report-Domain: example.org\r\n"
        f"TLS-Report-Submitter: {domain}\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type="tlsrpt"; boundary="b1"\r\n'
        "\r\n"
        "--b1\r\n"
        "Content-Type: text/plain; charset=us-ascii\r\n"
        "\r\n"
        f"This is an aggregate TLS report from {domain}.\r\n"
        "\r\n"
        "--b1\r\n"
        "Content-Type: application/tlsrpt+json\r\n"
        f'Content-Disposition: attachment; filename="{domain}!example.org!1!2!{report_id}.json"\r\n'
        "\r\n"
        f"{body}\r\n"
        "--b1--\r\n").encode()


def sign(msg, selector, domain, key):
    return dkim.sign(msg, selector.encode(), domain.encode(), key,
                     include_headers=SIGNED_HEADERS) + msg


def pubkey_b64(pem_path):
    der = subprocess.run(["openssl", "rsa", "-in", pem_path, "-pubout", "-outform", "DER"],
                         check=True, capture_output=True).stdout
    import base64
    return base64.b64encode(der).decode()


def txt(value):
    # RFC 1035 §3.3.14: at most 255 octets per character-string.
    return " ".join('"%s"' % value[i:i + 200] for i in range(0, len(value), 200))


def zone(name, records):
    lines = [f"$ORIGIN {name}.", "$TTL 300",
             f"@ SOA ns.{name}. hostmaster.{name}. 1 3600 600 86400 300", f"@ NS ns.{name}.",
             "ns A 127.0.0.1"]
    return "\n".join(lines + records) + "\n"


def make_material(mat):
    k1, k2 = os.path.join(mat, "k1.pem"), os.path.join(mat, "k2.pem")
    run("openssl", "genrsa", "-out", k1, "2048")
    run("openssl", "genrsa", "-out", k2, "2048")
    p1, p2 = pubkey_b64(k1), pubkey_b64(k2)
    key1, _ = open(k1, "rb").read(), open(k2, "rb").read()

    rec = lambda p, extra="": txt(f"v=DKIM1; k=rsa; {extra}p={p}")
    zones = {
        "reporter.example": [
            f"r1._domainkey TXT {rec(p1)}",
            f"wrong._domainkey TXT {rec(p2)}",
            f"email._domainkey TXT {rec(p1, 's=email; ')}",
            f"rpt._domainkey TXT {rec(p1, 's=email:tlsrpt; ')}",
        ],
        "other.example": [f"r1._domainkey TXT {rec(p1)}"],
        "signed.example": [f"s1._domainkey TXT {rec(p1)}", "www A 192.0.2.10"],
        "bogus.example": [f"b1._domainkey TXT {rec(p1)}", "www A 192.0.2.20"],
    }
    anchors = []
    for name, records in zones.items():
        path = os.path.join(mat, f"{name}.zone")
        with open(path, "w") as f:
            f.write(zone(name, records))
        if name in ("signed.example", "bogus.example"):
            base = subprocess.run(["ldns-keygen", "-a", "ECDSAP256SHA256", "-k", name], cwd=mat,
                                  check=True, capture_output=True, text=True).stdout.strip()
            run("ldns-signzone", "-e", "20370101000000", "-f", path + ".signed", path, base,
                cwd=mat)
            anchors.append(open(os.path.join(mat, base + ".ds")).read().strip())
            os.replace(path + ".signed", path)
    # bogus.example: a record changed after signing, so its RRSIG no longer matches.
    path = os.path.join(mat, "bogus.example.zone")
    text = open(path).read()
    text = text.replace("192.0.2.20", "192.0.2.21").replace('"v=DKIM1; k=rsa; p=',
                                                            '"v=DKIM1; k=rsa;  p=')
    open(path, "w").write(text)
    with open(os.path.join(mat, "anchors.ds"), "w") as f:
        f.write("\n".join(anchors) + "\n")

    mails = os.path.join(mat, "mail")
    os.makedirs(mails)

    def put(name, data):
        with open(os.path.join(mails, name), "wb") as f:
            f.write(data)

    base = report_mail("reporter.example", "dkim-good")
    put("good.eml", sign(base, "r1", "reporter.example", key1))
    put("body-altered.eml",
        sign(base, "r1", "reporter.example", key1).replace(b'"total-successful-session-count":12',
                                                        b'"total-successful-session-count":99'))
    put("header-altered.eml",
        sign(base, "r1", "reporter.example", key1).replace(b"Report-ID: <dkim-good>",
                                                        b"Report-ID: <dkim-evil>"))
    put("wrong-key.eml", sign(base, "wrong", "reporter.example", key1))
    put("no-key.eml", sign(base, "gone", "reporter.example", key1))
    put("email-only.eml", sign(base, "email", "reporter.example", key1))
    put("tlsrpt-service.eml", sign(base, "rpt", "reporter.example", key1))
    put("two-signatures.eml", sign(sign(base, "wrong", "reporter.example", key1), "r1",
                                   "reporter.example", key1))
    put("unaligned.eml", sign(base, "r1", "other.example", key1))
    put("unsigned.eml", base)
    put("lf-line-ends.eml", sign(base, "r1", "reporter.example", key1).replace(b"\r\n", b"\n"))
    put("secure.eml", sign(report_mail("signed.example", "dkim-secure"), "s1", "signed.example", key1))
    put("bogus.eml", sign(report_mail("bogus.example", "dkim-bogus"), "b1", "bogus.example", key1))


def material(state):
    digest = hashlib.sha256(open(__file__, "rb").read()).hexdigest()[:12]
    mat = os.path.join(state, f"dns-material-{digest}")
    os.makedirs(state, exist_ok=True)
    with open(os.path.join(state, "dns-material.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.path.exists(os.path.join(mat, "done")):
            shutil.rmtree(mat, ignore_errors=True)
            tmp = tempfile.mkdtemp(prefix="dns-material-", dir=state)
            make_material(tmp)
            open(os.path.join(tmp, "done"), "w").close()
            os.rename(tmp, mat)
    return mat


def free_port():
    # Below the ephemeral range (as scripts/services.sh): a port bound by 0 could be taken by
    # an outgoing connection before unbound binds it.
    import random
    for _ in range(200):
        p = random.randint(10000, 30000)
        u, t = socket.socket(socket.AF_INET, socket.SOCK_DGRAM), socket.socket()
        try:
            u.bind(("127.0.0.1", p))
            t.bind(("127.0.0.1", p))
            return p
        except OSError:
            continue
        finally:
            u.close()
            t.close()
    raise SystemExit("fixture: cannot find a free port")


def unbound_conf(run_dir, mat, port):
    auth = "".join(
        f'auth-zone:\n  name: "{z}"\n  zonefile: "{mat}/{z}.zone"\n'
        "  for-downstream: yes\n  for-upstream: no\n"
        for z in ("reporter.example", "other.example", "signed.example", "bogus.example"))
    return f"""server:
  interface: 127.0.0.1
  port: {port}
  do-ip6: no
  do-daemonize: no
  username: ""
  chroot: ""
  directory: "{run_dir}"
  pidfile: "{run_dir}/unbound.pid"
  use-syslog: no
  logfile: "{run_dir}/unbound.log"
  verbosity: 1
  num-threads: 1
  module-config: "iterator"
  access-control: 127.0.0.0/8 allow
  # Everything outside the test zones goes to a forwarder it may not query: SERVFAIL at once,
  # never the Internet.
  do-not-query-localhost: yes
remote-control:
  control-enable: no
forward-zone:
  name: "."
  forward-addr: 127.0.0.1@9
{auth}"""


def black_hole():
    """A UDP and TCP port that takes DNS queries and never answers."""
    port = free_port()
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", port))
    t = socket.socket()
    t.bind(("127.0.0.1", port))
    t.listen(16)
    held = []

    def drain():
        while True:
            try:
                u.recvfrom(4096)
            except OSError:
                return

    def accept():
        while True:
            try:
                held.append(t.accept()[0])
            except OSError:
                return

    threading.Thread(target=drain, daemon=True).start()
    threading.Thread(target=accept, daemon=True).start()
    return port, (u, t, held)


def answers(port):
    q = bytes.fromhex("abcd01000001000000000000") + b"\x08reporter\x07example\x00\x00\x06\x00\x01"
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.2)
    try:
        s.sendto(q, ("127.0.0.1", port))
        data = s.recv(512)
        return data[:2] == b"\xab\xcd" and (data[3] & 0x0F) == 0
    except OSError:
        return False
    finally:
        s.close()


def serve(state):
    mat = material(state)
    run_dir = tempfile.mkdtemp(prefix="dns-run-", dir=state)
    parent = os.getppid()
    proc = None
    for _ in range(5):
        port = free_port()
        with open(os.path.join(run_dir, "unbound.conf"), "w") as f:
            f.write(unbound_conf(run_dir, mat, port))
        proc = subprocess.Popen(["unbound", "-d", "-c", os.path.join(run_dir, "unbound.conf")],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and proc.poll() is None and not answers(port):
            time.sleep(0.05)
        if proc.poll() is None and answers(port):
            break
        proc.kill()
        proc.wait()
        proc = None
    if proc is None:
        log = os.path.join(run_dir, "unbound.log")
        sys.stderr.write(open(log).read() if os.path.exists(log) else "")
        raise SystemExit("fixture: unbound did not start")
    hole_port, hole = black_hole()

    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    print(f"pid={os.getpid()}")
    print(f"port={port}")
    print(f"black_hole_port={hole_port}")
    print(f"trust_anchor={mat}/anchors.ds")
    print(f"mail_dir={mat}/mail")
    print("ready", flush=True)
    while not stopping.is_set() and os.getppid() == parent:
        stopping.wait(0.2)
    proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
    shutil.rmtree(run_dir, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "serve":
        raise SystemExit(__doc__)
    serve(os.path.abspath(sys.argv[2]))
