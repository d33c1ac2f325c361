#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes TLS-RPT report files (RFC 8460 JSON) dated relative to today, for the dashboard tests.

    fixtures.py DIR [--hostile]

The normal set: two policy domains over 20 days, three reporters (one silent for the last 5
days), STS testing with certificate and policy-fetch failures on two MX hosts, and a domain
without a policy. --hostile adds reports whose every free-text field is an attack on the page
(markup, script, bidi overrides, a 10 KB name).
"""
import datetime as dt
import json
import pathlib
import sys


def day(days_ago):
    d = dt.datetime.now(dt.timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    return d - dt.timedelta(days=days_ago)


def report(org, rid, days_ago, policies, contact="mailto:tlsrpt@example.org"):
    b = day(days_ago)
    return {
        "organization-name": org,
        "date-range": {
            "start-datetime": b.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "end-datetime": (b + dt.timedelta(days=1) - dt.timedelta(seconds=1)).strftime(
                "%Y-%m-%dT%H:%M:%SZ"),
        },
        "contact-info": contact,
        "report-id": rid,
        "policies": policies,
    }


def sts(domain, ok, failed=0, details=(), mode="testing", mx=("mx1", "mx2")):
    return {
        "policy": {
            "policy-type": "sts",
            "policy-string": ["version: STSv1", f"mode: {mode}"]
            + [f"mx: {m}.{domain}" for m in mx] + ["max_age: 604800"],
            "policy-domain": domain,
            "mx-host": [f"{m}.{domain}" for m in mx],
        },
        "summary": {"total-successful-session-count": ok, "total-failure-session-count": failed},
        "failure-details": list(details),
    }


def nopolicy(domain, ok, failed=0, details=()):
    return {
        "policy": {"policy-type": "no-policy-found", "policy-domain": domain},
        "summary": {"total-successful-session-count": ok, "total-failure-session-count": failed},
        "failure-details": list(details),
    }


def detail(result, n, mx, ip="192.0.2.25"):
    return {"result-type": result, "sending-mta-ip": "198.51.100.7", "receiving-mx-hostname": mx,
            "receiving-ip": ip, "failed-session-count": n}


def normal():
    out = []
    for ago in range(20):
        # Google: every day; certificate-expired on mx2 from day 12 to day 8 ago.
        failed = 60 if 8 <= ago <= 12 else 0
        det = [detail("certificate-expired", failed, "mx2.example.com")] if failed else []
        out.append(report("Google Inc.", f"g-{ago}", ago,
                          [sts("example.com", 9000 + 37 * ago, failed, det)]))
        # Microsoft: every other day; a policy fetch error once.
        if ago % 2 == 0:
            f2 = 12 if ago == 4 else 0
            det2 = [detail("sts-policy-fetch-error", f2, "mx1.example.com")] if f2 else []
            out.append(report("Microsoft Corporation", f"m-{ago}", ago,
                              [sts("example.com", 3000 + ago, f2, det2),
                               nopolicy("example.net", 200 + ago)]))
        # A small reporter that went silent five days ago.
        if ago >= 5:
            out.append(report("Small Mail AB", f"s-{ago}", ago,
                              [sts("example.com", 50, 1 if ago == 6 else 0,
                                   [detail("starttls-not-supported", 1, "mx1.example.com")]
                                   if ago == 6 else [])]))
    return out


HOSTILE = [
    "<script>window.__pwned=1</script>",
    "<img src=x onerror=\"window.__pwned=2\">",
    "\"><svg onload=window.__pwned=3>",
    "evil\u202egnp.exe",
    "javascript:window.__pwned=4",
]


def hostile():
    out = []
    for i, s in enumerate(HOSTILE):
        out.append(report(s, f"h-{i}-{s}", 1 + i,
                          [sts("hostile.example", 100, 3,
                               [detail(s, 3, f"mx{i}.<b>hostile</b>.example", ip=s)])],
                          contact=s))
    out.append(report("L" * 10240, "long-name", 2, [sts("hostile.example", 10, 0)]))
    return out


def main():
    target = pathlib.Path(sys.argv[1])
    target.mkdir(parents=True, exist_ok=True)
    reports = hostile() if "--hostile" in sys.argv[2:] else normal()
    for i, r in enumerate(reports):
        (target / f"report-{i:03d}.json").write_text(json.dumps(r), encoding="utf-8")
    print(len(reports))


if __name__ == "__main__":
    main()
