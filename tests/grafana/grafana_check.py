#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Runs every query of packaging/grafana/tlsrpt-collector.json against a real database the way
Grafana's PostgreSQL data source would, and checks the columns and numbers.

Grafana expands the macros on its server before the SQL reaches PostgreSQL (pkg/tsdb/
grafana-postgresql-datasource, macros.go) and the template variables in the browser:
  $__timeFilter(c)         c BETWEEN '<from RFC 3339, UTC>' AND '<to>'
  $__timeFrom(), $__timeTo() '<from>', '<to>'
  $__timeGroup(c, '1d')    floor(extract(epoch from c)/86400)*86400
  $__timeGroupAlias(c, i)  the same AS "time"
  $var, ${var}, [[var]]    a multi-value or include-all variable: 'a','b' (quotes doubled)

    grafana_check.py DASHBOARD.json DATABASE_URL SUMMARY.json SUMMARY_NET.json
SUMMARY.json is `summary --format json --days 30 --top 1000`; SUMMARY_NET.json the same with
--domain example.net. Exit 0 when every check passed.
"""
import csv
import datetime as dt
import io
import json
import re
import subprocess
import sys

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL " + msg)


def quote(v):
    return "'" + v.replace("'", "''") + "'"


def split_args(s):
    # Macro arguments, split at top-level commas (Grafana allows nested parentheses).
    out, depth, cur = [], 0, ""
    for ch in s:
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
            continue
        depth += ch == "("
        depth -= ch == ")"
        cur += ch
    out.append(cur.strip())
    return out


def interval_seconds(arg):
    m = re.fullmatch(r"'?(\d+)([smhdw])'?", arg.strip())
    if not m:
        raise ValueError("interval " + arg)
    return int(m.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[m.group(2)]


def expand(sql, t_from, t_to, variables):
    fmt = lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ")

    def macro(m):
        name, args = m.group(1), split_args(m.group(2))
        if name == "timeFilter":
            return f"{args[0]} BETWEEN '{fmt(t_from)}' AND '{fmt(t_to)}'"
        if name == "timeFrom":
            return f"'{fmt(t_from)}'"
        if name == "timeTo":
            return f"'{fmt(t_to)}'"
        if name in ("timeGroup", "timeGroupAlias"):
            s = interval_seconds(args[1])
            g = f"floor(extract(epoch from {args[0]})/{s})*{s}"
            return g + (' AS "time"' if name == "timeGroupAlias" else "")
        raise ValueError("macro $__" + name + " is not expanded by this test")

    # Balanced parentheses: find each $__name( and its closing parenthesis.
    out, i = "", 0
    for m in re.finditer(r"\$__(\w+)\(", sql):
        if m.start() < i:
            continue
        depth, j = 1, m.end()
        while depth:
            depth += {"(": 1, ")": -1}.get(sql[j], 0)
            j += 1
        out += sql[i:m.start()] + macro(re.match(r"\$__(\w+)\((.*)\)$", sql[m.start():j], re.S))
        i = j
    sql = out + sql[i:]
    for name, values in variables.items():
        text = ",".join(quote(v) for v in values) if values else "NULL"
        sql = re.sub(r"\$\{" + name + r"(:[a-z]+)?\}|\[\[" + name + r"\]\]|\$" + name + r"\b",
                     lambda _: text, sql)
    if re.search(r"\$\w", sql.replace("$__", "")):
        raise ValueError("unexpanded variable in: " + sql)
    return sql


def run(url, sql):
    r = subprocess.run(["psql", "-X", "-q", "--csv", "-v", "ON_ERROR_STOP=1", url, "-c", sql],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(r.stderr.strip())
    rows = list(csv.reader(io.StringIO(r.stdout)))
    return rows[0], rows[1:]


# What each panel must return: its columns, in order.
COLUMNS = {
    "Sessions": ["sessions", "failed"],
    "Failure rate": ["failure rate"],
    "Reporters": ["reporters"],
    "Rejected or skipped messages": ["messages"],
    "Sessions per day": ["time", "successful", "failed"],
    "Failure rate per day and domain": ["time", "metric", "failure rate"],
    "Failures by result type and MX host": ["result type", "MX host", "policy domain",
                                            "failed sessions", "reporters", "blocks enforce"],
    "MTA-STS readiness": ["policy domain", "verdict", "mode", "ready days", "days with data",
                          "sessions", "would fail under enforce"],
    "Rejected and skipped messages": ["time", "outcome", "source", "folder", "uid", "sender",
                                      "subject", "error"],
}


def check(dash, url, summary, t_from, t_to, domains, label):
    # The variables first, each expanded with the ones before it (as Grafana refreshes them).
    variables = {}
    for v in dash["templating"]["list"]:
        _, rows = run(url, expand(v["query"], t_from, t_to, variables))
        values = [r[0] for r in rows]
        if v["name"] == "domain" and domains is not None:
            values = [d for d in values if d in domains]
        if not values:
            fail(f"{label}: variable {v['name']} has no values")
        variables[v["name"]] = values
    want_domains = sorted(d["policy_domain"] or "(none)" for d in summary["domains"])
    if sorted(variables["domain"]) != want_domains:
        fail(f"{label}: domain variable {variables['domain']} vs summary {want_domains}")

    results = {}
    for p in dash["panels"]:
        for t in p.get("targets", []):
            sql = expand(t["rawSql"], t_from, t_to, variables)
            try:
                cols, rows = run(url, sql)
            except RuntimeError as e:
                fail(f"{label}: panel {p['title']!r}: {e}")
                continue
            if COLUMNS.get(p["title"]) != cols:
                fail(f"{label}: panel {p['title']!r} columns {cols}, expected "
                     f"{COLUMNS.get(p['title'])}")
            if t["format"] == "time_series" and cols[0] != "time":
                fail(f"{label}: time series panel {p['title']!r} has no time column first")
            results[p["title"]] = rows

    sessions = sum(d["sessions"] for d in summary["domains"])
    failed = sum(d["failed_sessions"] for d in summary["domains"])
    reporters = {r for d in summary["domains"] for r in d["reporters"]}
    n = lambda s: float(s) if s else 0.0
    got = results.get("Sessions", [[0, 0]])[0]
    if (int(got[0]), int(got[1])) != (sessions, failed):
        fail(f"{label}: Sessions {got} vs summary {sessions}, {failed}")
    rate = n(results.get("Failure rate", [[""]])[0][0])
    if abs(rate - failed / sessions) > 1e-12:
        fail(f"{label}: Failure rate {rate} vs summary {failed / sessions}")
    if int(results.get("Reporters", [[0]])[0][0]) != len(reporters):
        fail(f"{label}: Reporters vs summary {len(reporters)}")
    per_day = results.get("Sessions per day", [])
    if sum(int(r[1]) + int(r[2]) for r in per_day) != sessions or \
            sum(int(r[2]) for r in per_day) != failed:
        fail(f"{label}: Sessions per day do not add up to summary's {sessions}/{failed}")
    days = [int(float(r[0])) for r in per_day]
    if any(d % 86400 for d in days) or days != sorted(days):
        fail(f"{label}: Sessions per day: time buckets are not whole UTC days in order")
    by_type = {}
    for r in results.get("Failures by result type and MX host", []):
        by_type[r[0]] = by_type.get(r[0], 0) + int(r[3])
    want_type = {}
    for f in summary["top_failures"]:
        want_type[f["result_type"]] = want_type.get(f["result_type"], 0) + f["failed_sessions"]
    if by_type != want_type:
        fail(f"{label}: failures by type {by_type} vs summary {want_type}")
    verdicts = {r[0]: r[1] for r in results.get("MTA-STS readiness", [])}
    want_v = {r["policy_domain"]: r["verdict"] for r in summary["mta_sts"]}
    if verdicts != want_v:
        fail(f"{label}: readiness {verdicts} vs summary {want_v}")
    print(f"{label}: {len(results)} panels, {sessions} sessions, {len(per_day)} days, "
          f"{len(by_type)} result types, verdicts {verdicts}")
    return results


def main():
    dash = json.load(open(sys.argv[1]))
    url = sys.argv[2]
    summary = json.load(open(sys.argv[3]))
    summary_net = json.load(open(sys.argv[4]))
    # Grafana's "now" is whole seconds; rounding down could put it before a row written in this
    # very second (the rejected message, written just before), so it is rounded up.
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) + dt.timedelta(seconds=1)
    # The dashboard's default range, now-30d/d to now: the window of summary --days 30.
    t_from = (now - dt.timedelta(days=30)).replace(hour=0, minute=0, second=0)
    if dash["time"] != {"from": "now-30d/d", "to": "now"}:
        fail(f"default time range {dash['time']}")
    if dash["__inputs"][0]["pluginId"] != "grafana-postgresql-datasource":
        fail("the data source input is not Grafana's PostgreSQL plugin")
    for p in dash["panels"]:
        if p["datasource"]["uid"] != "${DS_TLSRPT}":
            fail(f"panel {p['title']!r} does not use the dashboard's data source input")
    if set(COLUMNS) != {p["title"] for p in dash["panels"]}:
        fail(f"panels {sorted(p['title'] for p in dash['panels'])} vs checked {sorted(COLUMNS)}")
    every = check(dash, url, summary, t_from, now, None, "all domains")
    if len(every.get("Rejected and skipped messages", [])) != 1 or \
            every["Rejected or skipped messages"][0][0] != "1":
        fail("the rejected message of the fixtures is not listed once")
    check(dash, url, summary_net, t_from, now, {"example.net"}, "domain example.net")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
