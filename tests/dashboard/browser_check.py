#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Loads dashboard pages in one headless Chromium (DevTools protocol over a pipe, no extra
Python packages) and checks each page:

- no console error, no uncaught exception, no error in the browser log (a CSP violation lands
  there), and no request for anything but the page itself (file: or the one loopback server);
- no script ran and no markup came from report data: window.__pwned stays unset, the document
  has no <script>, no on* attribute and no element the pages never write (img, b, iframe...),
  and the hostile strings of fixtures.py appear as text;
- the numbers in the page equal `summary --format json` for the same period;
- a full-page PNG screenshot (desktop width, and a phone width) goes to --out.

    browser_check.py --summary summary.json --out DIR [--auth USER:PASSWORD] NAME=URL...

--auth sends HTTP basic credentials with every request (the served pages behind http.users).
Exit 0 when every check passed; the failures are printed.
"""
import argparse
import base64
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

HOSTILE_TEXT = ["<script>window.__pwned=1</script>", "<img src=x onerror=\"window.__pwned=2\">",
                "evil[U+202E]gnp.exe"]


class Browser:
    def __init__(self, binary):
        self.profile = tempfile.mkdtemp(prefix="tlsrpt-chromium-")
        to_child_r, self.to_child = os.pipe()
        self.from_child, from_child_w = os.pipe()

        def fds():
            # Chromium reads commands on fd 3 and writes on fd 4. Through high numbers first,
            # so that neither pipe end is overwritten by the other's dup2.
            a, b = os.dup(to_child_r), os.dup(from_child_w)
            os.dup2(a, 3)
            os.dup2(b, 4)
            os.set_inheritable(3, True)
            os.set_inheritable(4, True)

        self.proc = subprocess.Popen(
            [binary, "--headless", "--remote-debugging-pipe", "--no-sandbox", "--disable-gpu",
             "--no-first-run", "--no-default-browser-check", "--disable-extensions",
             "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--metrics-recording-only", "--mute-audio",
             "--user-data-dir=" + self.profile, "about:blank"],
            # close_fds would close 3 and 4 after preexec_fn made them; the other descriptors
            # of this process are not inheritable (PEP 446).
            preexec_fn=fds, close_fds=False, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_child_r)
        os.close(from_child_w)
        self.buf = b""
        self.next_id = 0
        self.events = []

    def close(self):
        try:
            self.call("Browser.close")
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.profile, ignore_errors=True)

    def _read(self, deadline):
        while b"\0" not in self.buf:
            if time.monotonic() > deadline:
                raise TimeoutError("chromium did not answer")
            chunk = os.read(self.from_child, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed the DevTools pipe")
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, session=None, timeout=60, **params):
        self.next_id += 1
        mid = self.next_id
        msg = {"id": mid, "method": method, "params": params}
        if session:
            msg["sessionId"] = session
        os.write(self.to_child, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            m = self._read(deadline)
            if m.get("id") == mid:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                return m.get("result", {})
            self.events.append(m)

    def wait_event(self, method, session, timeout=60):
        deadline = time.monotonic() + timeout
        for i, m in enumerate(self.events):
            if m.get("method") == method and m.get("sessionId") == session:
                del self.events[i]
                return m
        while True:
            m = self._read(deadline)
            if m.get("method") == method and m.get("sessionId") == session:
                return m
            self.events.append(m)


PROBE = r"""
(() => {
  const out = {pwned: window.__pwned === undefined ? null : String(window.__pwned)};
  out.scripts = document.scripts.length;
  out.handlers = [];
  for (const el of document.querySelectorAll('*'))
    for (const a of el.attributes)
      if (a.name.startsWith('on')) out.handlers.push(el.tagName + ' ' + a.name);
  out.foreign = Array.from(document.querySelectorAll(
      'img,b,iframe,object,embed,link,base,form input[type=image],foreignObject,image,use'))
      .map(e => e.tagName);
  out.text = document.body.innerText;
  out.domains = Array.from(document.querySelectorAll('#domain-table tbody tr')).map(tr => {
    const v = f => { const c = tr.querySelector('[data-field="' + f + '"]');
                     return c ? {value: c.dataset.value, shown: c.textContent} : null; };
    const b = tr.querySelector('[data-verdict]');
    return {domain: tr.dataset.domain, sessions: v('sessions'),
            failed_sessions: v('failed_sessions'), failure_rate: v('failure_rate'),
            reporters: v('reporters'), verdict: b ? b.dataset.verdict : null};
  });
  out.cards = Array.from(document.querySelectorAll('ul.cards[data-domain]')).map(ul => {
    const v = f => { const c = ul.querySelector('[data-field="' + f + '"]');
                     return c ? {value: c.dataset.value, shown: c.textContent} : null; };
    return {domain: ul.dataset.domain, sessions: v('sessions'),
            failed_sessions: v('failed_sessions')};
  });
  out.height = Math.ceil(document.documentElement.scrollHeight);
  out.width = Math.ceil(document.documentElement.scrollWidth);
  return JSON.stringify(out);
})()
"""


def allowed(url, page_url):
    p = urllib.parse.urlsplit(url)
    if p.scheme in ("data", "about", "chrome-error"):
        return True
    base = urllib.parse.urlsplit(page_url)
    if p.scheme == "file":
        return base.scheme == "file" and p.path == base.path
    return p.scheme == base.scheme and p.netloc == base.netloc and p.hostname in (
        "127.0.0.1", "::1", "localhost")


def check_page(b, name, url, summary, out_dir, failures, auth=None):
    def fail(msg):
        failures.append(f"{name}: {msg}")

    target = b.call("Target.createTarget", url="about:blank")["targetId"]
    session = b.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
    for domain in ("Page", "Runtime", "Log", "Network"):
        b.call(domain + ".enable", session)
    if auth:
        b.call("Network.setExtraHTTPHeaders", session, headers={
            "Authorization": "Basic " + base64.b64encode(auth.encode()).decode()})
    b.events.clear()
    b.call("Page.navigate", session, url=url)
    b.wait_event("Page.loadEventFired", session)
    time.sleep(0.2)  # late console messages and requests of a misbehaving page
    probe = json.loads(b.call("Runtime.evaluate", session, expression=PROBE,
                              returnByValue=True)["result"]["value"])
    # Drain what arrived meanwhile.
    b.call("Runtime.evaluate", session, expression="1")
    for m in b.events:
        if m.get("sessionId") != session:
            continue
        meth, p = m.get("method"), m.get("params", {})
        if meth == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert", "warning"):
            fail("console " + p["type"] + ": " + json.dumps(p.get("args"))[:300])
        elif meth == "Runtime.exceptionThrown":
            fail("exception: " + json.dumps(p.get("exceptionDetails"))[:300])
        elif meth == "Log.entryAdded" and p["entry"].get("level") in ("error", "warning"):
            fail("browser log: " + p["entry"].get("text", "")[:300])
        elif meth == "Network.requestWillBeSent":
            if not allowed(p["request"]["url"], url):
                fail("request leaving the page: " + p["request"]["url"][:200])
        elif meth == "Network.responseReceived" and p.get("type") == "Document" \
                and p["response"].get("status", 200) not in (0, 200):
            fail(f"page answered HTTP {p['response']['status']}")
        elif meth == "Network.loadingFailed" and p.get("type") == "Document":
            fail("page did not load: " + p.get("errorText", ""))

    if probe["pwned"] is not None:
        fail("a script from report data ran: window.__pwned = " + probe["pwned"])
    if probe["scripts"]:
        fail(f"{probe['scripts']} <script> element(s) in the page")
    if probe["handlers"]:
        fail("event handler attributes: " + ", ".join(probe["handlers"][:5]))
    if probe["foreign"]:
        fail("elements the pages never write: " + ", ".join(probe["foreign"][:5]))
    if "\u202e" in probe["text"]:
        fail("a bidi override reached the page text")

    # Numbers: each domain row (overview) and each domain's cards against summary's domains.
    expected = {d["policy_domain"] or "": d for d in summary["domains"]}
    verdicts = {r["policy_domain"]: r["verdict"] for r in summary["mta_sts"]}
    for row in probe["domains"]:
        want = expected.get(row["domain"])
        if want is None:
            fail(f"domain {row['domain'][:60]!r} is not in summary")
            continue
        for f in ("sessions", "failed_sessions"):
            got = row[f]
            if got is None or int(got["value"]) != want[f] \
                    or int(got["shown"].replace(",", "")) != want[f]:
                fail(f"{row['domain'][:60]}: {f} shown {got} but summary says {want[f]}")
        if abs(float(row["failure_rate"]["value"]) - want["failure_rate"]) > 1e-9:
            fail(f"{row['domain'][:60]}: failure rate {row['failure_rate']} vs "
                 f"{want['failure_rate']}")
        if int(row["reporters"]["value"]) != len(want["reporters"]):
            fail(f"{row['domain'][:60]}: {row['reporters']} reporters vs {want['reporters']}")
        if row["domain"] in verdicts and row["verdict"] != verdicts[row["domain"]]:
            fail(f"{row['domain'][:60]}: verdict {row['verdict']} vs {verdicts[row['domain']]}")
    for card in probe["cards"]:
        want = expected.get(card["domain"])
        if want is None:
            fail(f"domain page {card['domain'][:60]!r} is not in summary")
            continue
        for f in ("sessions", "failed_sessions"):
            if card[f] is None or int(card[f]["value"]) != want[f]:
                fail(f"{card['domain'][:60]} page: {f} {card[f]} vs summary {want[f]}")
    if not probe["domains"] and not probe["cards"] and name != "messages":
        fail("no domain numbers found on the page")
    if "hostile.example" in expected and (probe["domains"] or probe["cards"]):
        for s in HOSTILE_TEXT:
            if s not in probe["text"] and any(c["domain"] == "hostile.example"
                                              for c in probe["domains"] + probe["cards"]):
                fail(f"hostile string {s!r} not shown as text")

    # Screenshots: the whole page at desktop width, and the top of it on a phone.
    for label, width, mobile in (("", 1280, False), ("-phone", 390, True)):
        b.call("Emulation.setDeviceMetricsOverride", session, width=width, height=900,
               deviceScaleFactor=1, mobile=mobile)
        h = json.loads(b.call("Runtime.evaluate", session, returnByValue=True, expression=(
            "JSON.stringify([document.documentElement.scrollHeight,"
            "document.documentElement.scrollWidth])"))["result"]["value"])
        if mobile and h[1] > width + 1:
            fail(f"wider than a phone: {h[1]} px at {width} px")
        height = min(h[0], 16000) if not mobile else min(h[0], 2400)
        shot = b.call("Page.captureScreenshot", session, format="png", captureBeyondViewport=True,
                      clip={"x": 0, "y": 0, "width": width, "height": height, "scale": 1})
        (out_dir / f"{name}{label}.png").write_bytes(base64.b64decode(shot["data"]))
    b.call("Target.closeTarget", targetId=target)
    return probe


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    ap.add_argument("--summary", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--auth", metavar="USER:PASSWORD", help="HTTP basic credentials")
    ap.add_argument("--expect-fail", action="append", default=[], metavar="NAME=URL",
                    help="a page the checks must reject (proves they can fail)")
    ap.add_argument("pages", nargs="+", help="NAME=URL")
    a = ap.parse_args()
    summary = json.loads(pathlib.Path(a.summary).read_text())
    out = pathlib.Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    failures = []
    b = Browser(a.chromium)
    try:
        for spec in a.expect_fail:
            name, url = spec.split("=", 1)
            planted = []
            check_page(b, name, url, summary, out, planted)
            if not any("script from report data ran" in f for f in planted) or \
                    not any("request leaving the page" in f for f in planted):
                failures.append(f"{name}: the checks did not catch the planted script and "
                                f"request: {planted}")
            else:
                print(f"{name}: caught as expected ({len(planted)} findings)")
        for spec in a.pages:
            name, url = spec.split("=", 1)
            probe = check_page(b, name, url, summary, out, failures, a.auth)
            print(f"{name}: {len(probe['domains'])} domain rows, {len(probe['cards'])} domain "
                  f"pages, screenshot {out / (name + '.png')}")
    finally:
        b.close()
    for f in failures:
        print("FAIL " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
