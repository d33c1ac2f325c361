#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""HTTP clients for the HTTP side's tests: the odd requests curl will not send, many parallel
clients, and a TCP proxy in front of PostgreSQL that a test can cut to take the database away.

  client.py odd SCENARIO PORT            one hostile request; prints one JSON object
  client.py flood PORT PATH N PARALLEL   N distinct reports from PARALLEL keep-alive clients
  client.py post PORT PATH FILE TYPE     one POST; prints "status body"
  client.py hold PORT N SECONDS          opens N idle connections, then probes one more
  client.py proxy LISTEN_PORT TARGET_PORT  forwards until killed (prints "ready")
  client.py report INDEX [VARIANT]       prints a distinct RFC 8460 report (VARIANT: other counts)
"""
import gzip
import http.client
import json
import re
import select
import socket
import sys
import threading
import time


def report(i, org="load.example", variant=0):
    return json.dumps({
        "organization-name": org,
        "date-range": {"start-datetime": "2026-11-01T00:00:00Z",
                       "end-datetime": "2026-11-01T23:59:59Z"},
        "contact-info": "tlsrpt@load.example",
        "report-id": f"load-{i}",
        "policies": [{
            "policy": {"policy-type": "sts", "policy-string": ["version: STSv1", "mode: testing"],
                       "policy-domain": f"d{i % 50}.example", "mx-host": ["mx.example"]},
            "summary": {"total-successful-session-count": 10 + variant,
                        "total-failure-session-count": i % 3},
        }],
    }).encode()


def connect(port, timeout=30):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    return s


def read_all(s, limit=1 << 20):
    """Reads until the server closes (or the limit); returns (bytes, closed)."""
    data = b""
    try:
        while len(data) < limit:
            chunk = s.recv(65536)
            if not chunk:
                return data, True
            data += chunk
    except socket.timeout:
        return data, False
    except ConnectionResetError:
        return data, True
    return data, False


def statuses(data):
    return [int(m) for m in re.findall(rb"HTTP/1\.[01] (\d{3}) ", data)]


def exchange(port, raw, timeout=30, pause=None):
    s = connect(port, timeout)
    try:
        if pause is None:
            s.sendall(raw)
        else:
            for piece in raw:
                s.sendall(piece)
                time.sleep(pause)
        data, closed = read_all(s)
        return data, closed
    except (BrokenPipeError, ConnectionResetError):
        return b"", True
    finally:
        s.close()


def odd(scenario, port):
    body = report(1, org="odd.example")
    t0 = time.monotonic()
    res = {}
    if scenario == "slow-headers":
        # A byte at a time, never finishing: the whole-request deadline cuts it off.
        s = connect(port, 60)
        head = b"POST /tlsrpt HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: " + b"a" * 10000
        closed = False
        try:
            for b in head:
                s.sendall(bytes([b]))
                r, _, _ = select.select([s], [], [], 0.2)
                if r:
                    data = s.recv(4096)
                    res["got"] = data[:200].decode("latin1")
                    closed = True
                    break
                if time.monotonic() - t0 > 50:
                    break
        except (BrokenPipeError, ConnectionResetError):
            closed = True
        res["closed"] = closed
        s.close()
    elif scenario == "slow-body":
        s = connect(port, 60)
        s.sendall(b"POST /tlsrpt HTTP/1.1\r\nHost: x\r\nContent-Type: application/tlsrpt+json\r\n"
                  b"Content-Length: %d\r\n\r\n" % len(body))
        closed = False
        data = b""
        try:
            for b in body:
                s.sendall(bytes([b]))
                r, _, _ = select.select([s], [], [], 0.2)
                if r:
                    data = s.recv(4096)
                    closed = True
                    break
                if time.monotonic() - t0 > 50:
                    break
        except (BrokenPipeError, ConnectionResetError):
            closed = True
        res["closed"] = closed
        res["statuses"] = statuses(data)
        s.close()
    elif scenario == "huge-declared":
        data, closed = exchange(port, b"POST /tlsrpt HTTP/1.1\r\nHost: x\r\n"
                                b"Content-Type: application/tlsrpt+json\r\n"
                                b"Content-Length: 1073741824\r\n\r\n" + b"{" * 1000)
        res["statuses"], res["closed"] = statuses(data), closed
    elif scenario == "absurd-length":
        data, closed = exchange(port, b"POST /tlsrpt HTTP/1.1\r\nHost: x\r\n"
                                b"Content-Type: application/tlsrpt+json\r\n"
                                b"Content-Length: 99999999999999999999999999\r\n\r\n")
        res["statuses"], res["closed"] = statuses(data), closed
    elif scenario == "chunked-bad-size":
        data, closed = exchange(port, b"POST /tlsrpt HTTP/1.1\r\nHost: x\r\n"
                                b"Content-Type: application/tlsrpt+json\r\n"
                                b"Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n")
        res["statuses"], res["closed"] = statuses(data), closed
    elif scenario == "chunked-huge":
        # A chunk that declares more than the body limit, then keeps sending.
        s = connect(port, 30)
        s.sendall(b"POST /tlsrpt HTTP/1.1\r\nHost: x\r\nContent-Type: application/tlsrpt+json\r\n"
                  b"Transfer-Encoding: chunked\r\n\r\n7fffffff\r\n")
        closed = False
        sent = 0
        try:
            while sent < 64 << 20:
                s.sendall(b"a" * 65536)
                sent += 65536
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            closed = True
        data, c2 = read_all(s)
        res["closed"] = closed or c2
        res["sent_mib"] = sent >> 20
        res["statuses"] = statuses(data)
        s.close()
    elif scenario == "chunked-ok":
        chunks = b""
        for i in range(0, len(body), 50):
            piece = body[i:i + 50]
            chunks += b"%x\r\n" % len(piece) + piece + b"\r\n"
        data, closed = exchange(port, b"POST /tlsrpt HTTP/1.1\r\nHost: x\r\n"
                                b"Content-Type: application/tlsrpt+json\r\nConnection: close\r\n"
                                b"Transfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n")
        res["statuses"], res["body"] = statuses(data), data.split(b"\r\n\r\n", 1)[-1].decode()
    elif scenario == "gzip-bomb":
        bomb = gzip.compress(b" " * (64 << 20), 9)
        res["bomb_bytes"] = len(bomb)
        data, closed = exchange(port, b"POST /tlsrpt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                                b"Content-Type: application/tlsrpt+gzip\r\n"
                                b"Content-Length: %d\r\n\r\n" % len(bomb) + bomb)
        res["statuses"] = statuses(data)
        res["body"] = data.split(b"\r\n\r\n", 1)[-1].decode("latin1")[:300]
    elif scenario == "header-flood":
        head = b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"".join(
            b"X-H%d: v\r\n" % i for i in range(500)) + b"\r\n"
        data, closed = exchange(port, head)
        res["statuses"], res["closed"] = statuses(data), closed
    elif scenario == "header-huge":
        head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (256 << 10) + b"\r\n\r\n"
        data, closed = exchange(port, head)
        res["statuses"], res["closed"] = statuses(data), closed
    elif scenario == "garbage-method":
        data, closed = exchange(port, b"FROB /tlsrpt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        res["statuses"] = statuses(data)
    elif scenario == "binary-garbage":
        data, closed = exchange(port, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(256)) + b"\r\n\r\n")
        res["statuses"], res["closed"] = statuses(data), closed
    elif scenario == "http10":
        data, closed = exchange(port, b"POST /tlsrpt HTTP/1.0\r\nContent-Type: application/tlsrpt+json\r\n"
                                b"Content-Length: %d\r\n\r\n" % len(body) + body)
        res["statuses"], res["closed"] = statuses(data), closed
        res["body"] = data.split(b"\r\n\r\n", 1)[-1].decode()
    elif scenario == "pipelining":
        one = (b"POST /tlsrpt HTTP/1.1\r\nHost: x\r\nContent-Type: application/tlsrpt+json\r\n"
               b"Content-Length: %d\r\n\r\n" % len(body) + body)
        last = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        data, closed = exchange(port, one + one + last)
        res["statuses"] = statuses(data)
        res["answers"] = [p.split(b"\r\n")[0].decode() for p in data.split(b"\r\n\r\n")[1:]]
    else:
        raise SystemExit("unknown scenario " + scenario)
    res["seconds"] = round(time.monotonic() - t0, 2)
    print(json.dumps(res))


def flood(port, path, n, parallel, start=0, gz=False):
    answers = {}
    lock = threading.Lock()
    errors = []

    def worker(k):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for i in range(start + k, start + n, parallel):
            body = report(i)
            ctype = "application/tlsrpt+json"
            if gz and i % 2 == 0:
                body, ctype = gzip.compress(body), "application/tlsrpt+gzip"
            for attempt in range(3):
                try:
                    conn.request("POST", path, body, {"Content-Type": ctype})
                    r = conn.getresponse()
                    text = r.read().decode().split(" ")[0].strip()
                    with lock:
                        answers[i] = (r.status, text)
                    break
                except (http.client.HTTPException, OSError) as e:
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                    if attempt == 2:
                        with lock:
                            errors.append(str(e))
        conn.close()

    t0 = time.monotonic()
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(parallel)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    secs = time.monotonic() - t0
    summary = {}
    for st, text in answers.values():
        key = f"{st} {text}"
        summary[key] = summary.get(key, 0) + 1
    print(json.dumps({"answers": summary, "errors": errors[:5], "error_count": len(errors),
                      "seconds": round(secs, 3), "per_second": round(n / secs, 1)}))


def post(port, path, file, ctype):
    body = open(file, "rb").read() if file != "-" else sys.stdin.buffer.read()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Content-Type": ctype} if ctype != "-" else {}
    conn.putrequest("POST", path, skip_accept_encoding=True)
    for k, v in headers.items():
        conn.putheader(k, v)
    conn.putheader("Content-Length", str(len(body)))
    conn.endheaders(body)
    r = conn.getresponse()
    print(r.status, r.read().decode().strip())


def hold(port, n, seconds):
    held = [connect(port) for _ in range(n)]
    time.sleep(0.5)  # let the server account for them
    data, closed = exchange(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin1")
    retry = [l.split(":", 1)[1].strip() for l in head.split("\r\n") if l.lower().startswith("retry-after:")]
    print(json.dumps({"statuses": statuses(data), "retry_after": retry[0] if retry else None}))
    time.sleep(float(seconds))
    for s in held:
        s.close()


def proxy(listen_port, target_port):
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", listen_port))
    srv.listen(64)
    print("ready", srv.getsockname()[1], flush=True)

    def pump(a, b):
        try:
            while True:
                d = a.recv(65536)
                if not d:
                    break
                b.sendall(d)
        except OSError:
            pass
        finally:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    while True:
        c, _ = srv.accept()
        try:
            t = socket.create_connection(("127.0.0.1", target_port))
        except OSError:
            c.close()
            continue
        threading.Thread(target=pump, args=(c, t), daemon=True).start()
        threading.Thread(target=pump, args=(t, c), daemon=True).start()


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "odd":
        odd(sys.argv[2], int(sys.argv[3]))
    elif cmd == "flood":
        flood(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]),
              int(sys.argv[6]) if len(sys.argv) > 6 else 0, len(sys.argv) > 7 and sys.argv[7] == "gz")
    elif cmd == "post":
        post(int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5])
    elif cmd == "hold":
        hold(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
    elif cmd == "proxy":
        proxy(int(sys.argv[2]), int(sys.argv[3]))
    elif cmd == "report":
        sys.stdout.buffer.write(report(int(sys.argv[2]), variant=int(sys.argv[3]) if len(sys.argv) > 3 else 0))
    else:
        raise SystemExit(__doc__)
