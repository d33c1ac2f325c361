#!/usr/bin/env python3
"""Writes the project's own sample report mail into tests/data/mail/ (deterministic output).

Every domain, address and IP here is fictional (RFC 2606 names, RFC 5737 / RFC 3849 addresses).
The envelopes imitate the shapes real senders use (see ../../../../shared/corpus/SOURCES.tsv for
the real ones): a webmail giant (multipart/report, base64 gzip), a cloud suite (text/html first
part, filename only in Content-Disposition), a portal (quoted report-type, CRLF, final boundary
never closed), Postfix's tlsrpt tool (no policy-domain), a small host sending raw JSON, ...
Run: python3 tests/data/mime/make_sample_mail.py
"""
import base64
import calendar
import gzip
import json
import os
import quopri
import textwrap

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "mail")


def epoch(day, hh=0, mm=0, ss=0):
    return calendar.timegm((2026, 11, day, hh, mm, ss, 0, 0, 0))


def day_range(day):
    return {"start-datetime": f"2026-11-{day:02d}T00:00:00Z",
            "end-datetime": f"2026-11-{day:02d}T23:59:59Z"}


def sts_policy(domain, mode, mxs, max_age=604800, mx_host=True, with_domain=True):
    p = {"policy-type": "sts",
         "policy-string": ["version: STSv1", f"mode: {mode}"] + [f"mx: {m}" for m in mxs] +
                          [f"max_age: {max_age}"]}
    if with_domain:
        p["policy-domain"] = domain
    if mx_host:
        p["mx-host"] = list(mxs)
    return p


def gz(data):
    return gzip.compress(data, compresslevel=9, mtime=0)


def b64_lines(data, width=76):
    s = base64.b64encode(data).decode()
    return "\n".join(textwrap.wrap(s, width)) + "\n"


def write(name, text, crlf=False):
    if crlf:
        text = text.replace("\r\n", "\n").replace("\n", "\r\n")
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(text.encode())


def dkim(domain, selector, t):
    sig = base64.b64encode(bytes((i * 37 + t) % 256 for i in range(256))).decode()
    bh = base64.b64encode(bytes((i * 11 + t) % 256 for i in range(32))).decode()
    return (f"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;\n"
            f"        d={domain}; s={selector}; t={t};\n"
            f"        h=mime-version:date:tls-report-domain:tls-report-submitter:message-id\n"
            f"         :subject:from:to;\n"
            f"        bh={bh};\n"
            f"        b=" + "\n         ".join(textwrap.wrap(sig, 70)) + "\n")


def auth_results(sender_domain, ip):
    return (f"Authentication-Results: mx1.example.com;\n"
            f"\tdkim=pass (2048-bit rsa key sha256) header.d={sender_domain};\n"
            f"\tspf=pass smtp.mailfrom={sender_domain} smtp.remote-ip={ip};\n"
            f"\tdmarc=pass header.from={sender_domain}\n")


def rfc5322_date(day, hh, mm, ss, tz="-0800", wd=None):
    wd = wd or ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][calendar.weekday(2026, 11, day)]
    return f"{wd}, {day:02d} Nov 2026 {hh:02d}:{mm:02d}:{ss:02d} {tz}"


# ---- the reports --------------------------------------------------------------------------------

MX_COM = ["mx1.example.com", "mx2.example.com"]
MX_ORG = ["mail.example.org"]


def inbox_report(day, domain, policy, ok, failures=()):
    rep = {"organization-name": "Inbox Example Inc.", "date-range": day_range(day),
           "contact-info": "smtp-tls-reporting@inbox.example",
           "report-id": f"2026.11.{day:02d}T00.00.00Z+{domain}@inbox.example",
           "policies": [{"policy": policy,
                         "summary": {"total-successful-session-count": ok,
                                     "total-failure-session-count":
                                         sum(f["failed-session-count"] for f in failures)}}]}
    if failures:
        rep["policies"][0]["failure-details"] = list(failures)
    return rep


def inbox_mail(name, day, domain, report, sent=(1, 10, 41, 7)):
    """Shaped like the big webmail senders: multipart/report, base64 76 columns, LF."""
    d, hh, mm, ss = sent
    body = gz(json.dumps(report, separators=(",", ":")).encode())
    start, end = epoch(day), epoch(day, 23, 59, 59)
    fname = f"inbox.example!{domain}!{start}!{end}!001.json.gz"
    boundary = f"000000000000{day:02d}a4b7f305e8c8{hh:02d}5c"
    mid = f"{0x6a000000 + day * 4099:x}.050a0220.{day * 977:x}.{day * 31:x}tls@inbox.example"
    text = (f"Return-Path: <3aB{day}cHJlcG9ydA-noreply-smtp-tls-reporting@inbox.example>\n"
            f"Delivered-To: tlsrpt@{domain}\n"
            f"Received: from mail-sor-f69.inbox.example (mail-sor-f69.inbox.example [198.51.100.69])\n"
            f"        by mx1.example.com (Postfix) with ESMTPS id 4Xk{day}Qz2Lm\n"
            f"        for <tlsrpt@{domain}>; {rfc5322_date(d, hh, mm, ss + 2, '+0000')}\n"
            + auth_results("inbox.example", "198.51.100.69")
            + dkim("inbox.example", "20250601", epoch(d, hh, mm, ss))
            + f"MIME-Version: 1.0\n"
            f"Date: {rfc5322_date(d, hh - 8 if hh >= 8 else hh, mm, ss)}\n"
            f"TLS-Report-Domain: {domain}\n"
            f"TLS-Report-Submitter: inbox.example\n"
            f"Message-ID: <{mid}>\n"
            f"Subject: Report Domain: {domain} Submitter: inbox.example Report-ID: <{report['report-id']}>\n"
            f"From: noreply-smtp-tls-reporting@inbox.example\n"
            f"To: tlsrpt@{domain}\n"
            f"Content-Type: multipart/report; boundary=\"{boundary}\"; report-type=tlsrpt\n"
            f"\n"
            f"--{boundary}\n"
            f"Content-Type: text/plain; charset=\"UTF-8\"; format=flowed; delsp=yes\n"
            f"\n"
            f"This is an aggregate TLS report from inbox.example\n"
            f"\n"
            f"--{boundary}\n"
            f"Content-Type: application/tlsrpt+gzip; \n"
            f"\tname=\"{fname}\"\n"
            f"Content-Disposition: attachment; \n"
            f"\tfilename=\"{fname}\"\n"
            f"Content-Transfer-Encoding: base64\n"
            f"\n"
            + b64_lines(body)
            + f"--{boundary}--\n")
    write(name, text)


def outlook_mail(name, day, domain, policies, sent=(2, 5, 14, 52)):
    """Shaped like the cloud suites: text/html QP first part, no name= on the attachment,
    filename only in Content-Disposition, folded Content-Description, Report-ID without <>."""
    d, hh, mm, ss = sent
    rid = f"13407{day:02d}93{hh:02d}{mm:02d}1{ss:02d}62+{domain}"
    report = {"organization-name": "Outlook Example Corporation", "date-range": day_range(day),
              "contact-info": "tlsrpt-noreply@outlook.example", "report-id": rid,
              "policies": policies}
    body = gz(json.dumps(report, separators=(",", ":")).encode())
    fname = f"outlook.example!{domain}!{epoch(day)}!{epoch(day, 23, 59, 59)}!{rid.split('+')[0]}.json.gz"
    boundary = f"_000_{rid.split('+')[0]}_"
    html = ("<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\">"
            "</head><body><div style=\"font-family: Segoe UI, sans-serif\">This is a TLS report "
            f"generated by Outlook Example for the domain {domain} during the period "
            f"2026-11-{day:02d} 00:00:00 UTC to 2026-11-{day:02d} 23:59:59 UTC. Please don’t reply "
            "to this message.</div></body></html>")
    qp = quopri.encodestring(html.encode()).decode()
    text = (f"Received: from EUR05-DB8-obe.outbound.outlook.example (mail-db8eur05on2101.outbound.outlook.example [203.0.113.101])\n"
            f"\tby mx1.example.com (Postfix) with ESMTPS id 4Xm{day}Pq7Zr\n"
            f"\tfor <tlsrpt@{domain}>; {rfc5322_date(d, hh, mm, ss + 1, '+0000')}\n"
            + auth_results("outlook.example", "203.0.113.101")
            + "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=outlook.example;\n"
            " s=selector2; h=From:Date:Subject:Message-ID:Content-Type:MIME-Version:X-MS-Exchange-SenderADCheck;\n"
            f" bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;\n"
            f" b=Qm9ndXNTaWduYXR1cmVGb3JBU2FtcGxlTWFpbE9ubHlOb3RWZXJpZmlhYmxlQnlEZXNpZ24{day:02d}\n"
            f"From: <tlsrpt-noreply@outlook.example>\n"
            f"To: <tlsrpt@{domain}>\n"
            f"Subject: Report Domain: {domain} Submitter: outlook.example Report-ID:\n"
            f" {rid}\n"
            f"Date: {rfc5322_date(d, hh, mm, ss, '+0000')}\n"
            f"Message-ID: <{rid}@{domain}>\n"
            f"Content-Language: en-US\n"
            f"X-MS-Has-Attach: yes\n"
            f"TLS-Report-Domain: {domain}\n"
            f"TLS-Report-Submitter: outlook.example\n"
            f"Content-Type: multipart/report;\n"
            f"\tboundary=\"{boundary}\";\n"
            f"\treport-type=tlsrpt\n"
            f"MIME-Version: 1.0\n"
            f"\n"
            f"--{boundary}\n"
            f"Content-Type: text/html; charset=\"utf-8\"\n"
            f"Content-Transfer-Encoding: quoted-printable\n"
            f"\n"
            + qp + "\n"
            f"\n"
            f"--{boundary}\n"
            f"Content-Type: application/tlsrpt+gzip\n"
            f"Content-Description:\n"
            f"\t{fname}\n"
            f"Content-Disposition: attachment;\n"
            f"\tfilename=\"{fname}\"; size={len(body)};\n"
            f"\tcreation-date=\"{rfc5322_date(d, hh, mm, ss, 'GMT')}\";\n"
            f"\tmodification-date=\"{rfc5322_date(d, hh, mm, ss, 'GMT')}\"\n"
            f"Content-Transfer-Encoding: base64\n"
            f"\n"
            + b64_lines(body)
            + f"\n--{boundary}--\n")
    write(name, text)


def portal_mail(name, day, domain, uuid, failures, sent=(6, 0, 10, 38)):
    """Shaped like the portal senders: CRLF, report-type="tlsrpt" first and quoted, a 7bit
    text part, and the final boundary never closed."""
    d, hh, mm, ss = sent
    rid = f"{uuid}@portal.example"
    report = {"organization-name": "Portal.example",
              "date-range": {"start-datetime": f"2026-11-{day:02d}T00:00:00Z",
                             "end-datetime": f"2026-11-{day + 1:02d}T00:00:00Z"},
              "contact-info": "smtp-tls-reporting@corp.portal.example", "report-id": rid,
              "policies": [{"policy": {"policy-type": "sts", "policy-domain": domain},
                            "summary": {"total-successful-session-count": 0,
                                        "total-failure-session-count":
                                            sum(f["failed-session-count"] for f in failures)},
                            "failure-details": failures}]}
    body = gz(json.dumps(report, separators=(",", ":")).encode())
    fname = f"portal.example!{domain}!{epoch(day)}!{epoch(day + 1)}!001.json.gz"
    boundary = f"{uuid.replace('-', '')[:30]}"
    text = (f"Received: from f{day}.corp.portal.example ([192.0.2.{40 + day}]:51234)\n"
            f"\tby mx1.example.com with esmtps id 1tQx{day}a-000Bc1-2W\n"
            f"\tfor tlsrpt@{domain}; {rfc5322_date(d, hh, mm, ss + 3, '+0300')}\n"
            + auth_results("corp.portal.example", f"192.0.2.{40 + day}")
            + f"DKIM-Signature: v=1; a=rsa-sha256; q=dns/txt; c=relaxed/relaxed; d=corp.portal.example; s=mail4;\n"
            f"\th=Content-Type:Subject:To:From:Message-ID:Date:MIME-Version:From:Subject:Content-Type:Content-Transfer-Encoding:To:Cc;\n"
            f"\tbh=frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY=;\n"
            f"\tb=U2FtcGxlU2lnbmF0dXJlTm90VmFsaWRGb3JBbnlLZXlBdEFsbFRoaXNJc1Rlc3REYXRh{day:02d}==;\n"
            f"MIME-Version: 1.0\n"
            f"Date: {rfc5322_date(d, hh + 3, mm, ss, '+0300')}\n"
            f"Message-ID: <{rid}>\n"
            f"From: noreply-smtp-tls-reporting@corp.portal.example\n"
            f"To: tlsrpt@{domain}\n"
            f"Subject: Report\n"
            f"Content-Type: multipart/report; report-type=\"tlsrpt\"; boundary=\"{boundary}\"\n"
            f"Auto-Submitted: auto-generated\n"
            f"TLS-Report-Domain: {domain}\n"
            f"TLS-Report-Submitter: portal.example\n"
            f"\n"
            f"--{boundary}\n"
            f"Content-Transfer-Encoding: 7bit\n"
            f"Content-Type: text/plain; charset=utf-8\n"
            f"\n"
            f"This is an aggregate TLS report from portal.example\n"
            f"--{boundary}\n"
            f"Content-Disposition: attachment; filename=\"{fname}\"\n"
            f"Content-Transfer-Encoding: base64\n"
            f"Content-Type: application/tlsrpt+gzip; name=\"{fname}\"\n"
            f"\n"
            + base64.b64encode(body).decode() + "\n"
            f"--{boundary}\n")
    write(name, text, crlf=True)


def main():
    os.makedirs(OUT, exist_ok=True)

    # 1-2. example.com is in enforce mode and healthy.
    for day, ok in ((2, 1843), (9, 1795)):
        inbox_mail(f"inbox-example.com-2026-11-{day:02d}.eml", day, "example.com",
                   inbox_report(day, "example.com", sts_policy("example.com", "enforce", MX_COM), ok),
                   sent=(day + 1, 10, 41, 7 + day))

    # 3-4. example.org is still in testing mode and its MX has a certificate problem.
    expired = {"result-type": "certificate-expired", "sending-mta-ip": "198.51.100.23",
               "receiving-mx-hostname": "mail.example.org", "receiving-ip": "203.0.113.25",
               "failed-session-count": 17}
    inbox_mail("inbox-example.org-2026-11-03.eml", 3, "example.org",
               inbox_report(3, "example.org", sts_policy("example.org", "testing", MX_ORG, 86400),
                            412, [expired]), sent=(4, 9, 3, 44))
    inbox_mail("inbox-example.org-2026-11-10.eml", 10, "example.org",
               inbox_report(10, "example.org", sts_policy("example.org", "testing", MX_ORG, 86400),
                            0, [dict(expired, **{"failed-session-count": 388}),
                                dict(expired, **{"sending-mta-ip": "2001:db8:4860::1a",
                                                 "failed-session-count": 41})]),
               sent=(11, 9, 5, 2))

    # 5. A cloud suite: one STS policy without mx-host, plus a TLSA policy.
    outlook_mail("outlook-example.com-2026-11-04.eml", 4, "example.com", [
        {"policy": dict(sts_policy("example.com", "enforce", MX_COM, mx_host=False)),
         "summary": {"total-successful-session-count": 926, "total-failure-session-count": 0}},
        {"policy": {"policy-type": "tlsa",
                    "policy-string": ["3 1 1 6A8C3F0B9E2D41A7C5E8F9D0B1A2C3D4E5F60718293A4B5C6D7E8F9012345678"],
                    "policy-domain": "example.com", "mx-host": ["mx1.example.com"]},
         "summary": {"total-successful-session-count": 463, "total-failure-session-count": 0}}],
        sent=(5, 5, 14, 52))

    # 6. The same cloud suite on example.org: starttls and hostname failures (testing mode).
    outlook_mail("outlook-example.org-2026-11-05.eml", 5, "example.org", [
        {"policy": sts_policy("example.org", "testing", MX_ORG, 86400, mx_host=False),
         "summary": {"total-successful-session-count": 57, "total-failure-session-count": 9},
         "failure-details": [
             {"result-type": "starttls-not-supported", "sending-mta-ip": "203.0.113.87",
              "receiving-mx-hostname": "mail.example.org", "receiving-ip": "192.0.2.25",
              "failed-session-count": 6},
             {"result-type": "certificate-host-mismatch", "sending-mta-ip": "203.0.113.88",
              "receiving-mx-hostname": "mail.example.org", "receiving-ip": "192.0.2.26",
              "failed-session-count": 3,
              "additional-information": "https://outlook.example/tlsrpt/help#host-mismatch"}]}],
        sent=(6, 5, 20, 11))

    # 7. A portal whose fetch of the MTA-STS policy failed, with an unclosed multipart.
    portal_mail("portal-example.org-2026-11-06.eml", 6, "example.org",
                "5f0c1a2e-9d3b-4c8e-a1f7-2b6d9e0c4a83",
                [{"result-type": "sts-policy-fetch-error", "failed-session-count": 2,
                  "failure-reason-code": "bad https response code: 404"},
                 {"result-type": "sts-policy-fetch-error", "failed-session-count": 1,
                  "failure-reason-code": "Get \"https://mta-sts.example.org/.well-known/mta-sts.txt\": "
                                         "tls: failed to verify certificate: x509: certificate has expired or is not yet valid"}])

    # 8. Postfix's tlsrpt tool at a small provider: no policy-domain, raw JSON gzipped.
    postfix = {"organization-name": "mx.example.net", "date-range": day_range(7),
               "contact-info": "postmaster@example.net",
               "report-id": "2026-11-07T00:00:00Z_example.com",
               "policies": [{"policy": {"policy-type": "sts",
                                        "policy-string": ["version: STSv1", "mode: enforce",
                                                          "mx: mx1.example.com", "mx: mx2.example.com",
                                                          "max_age: 604800"],
                                        "mx-host": ["mx1.example.com", "mx2.example.com"]},
                             "summary": {"total-successful-session-count": 38,
                                         "total-failure-session-count": 0}}]}
    pbody = gz(json.dumps(postfix, indent=2).encode())
    write("postfix-example.com-2026-11-07.eml",
          "Return-Path: <noreply-tlsrpt@mx.example.net>\n"
          "Received: from mx.example.net (mx.example.net [192.0.2.80])\n"
          "\tby mx1.example.com (Postfix) with ESMTPS id 4XpT1k0Zq3z9\n"
          "\tfor <tlsrpt@example.com>; Sun,  8 Nov 2026 00:05:03 +0100 (CET)\n"
          + auth_results("example.net", "192.0.2.80")
          + "Content-Type: multipart/report; report-type=\"tlsrpt\";\n"
          " boundary=\"===============4417251987403658820==\"\n"
          "MIME-Version: 1.0\n"
          "From: noreply-tlsrpt@mx.example.net\n"
          "To: tlsrpt@example.com\n"
          "Subject: Report Domain: example.com Submitter: mx.example.net\n"
          " Report-ID: <2026-11-07T00:00:00Z_example.com@mx.example.net>\n"
          "Date: Sun, 08 Nov 2026 00:05:02 +0100\n"
          "Message-ID: <179412870201.1187.2202546187306313405@mx.example.net>\n"
          "TLS-Report-Domain: example.com\n"
          "TLS-Report-Submitter: mx.example.net\n"
          "\n"
          "--===============4417251987403658820==\n"
          "Content-Type: text/plain; charset=\"us-ascii\"\n"
          "MIME-Version: 1.0\n"
          "Content-Transfer-Encoding: 7bit\n"
          "\n"
          "This is an aggregate TLS report from mx.example.net\n"
          "--===============4417251987403658820==\n"
          "Content-Type: application/tlsrpt+gzip\n"
          "MIME-Version: 1.0\n"
          "Content-Transfer-Encoding: base64\n"
          "Content-Disposition: attachment;\n"
          " filename=\"mx.example.net!example.com!1794009600!1794095999!001.json.gz\"\n"
          "\n"
          + b64_lines(pbody)
          + "\n--===============4417251987403658820==--\n")

    # 9. A small host sending plain JSON (application/tlsrpt+json, no compression, 7bit).
    plain = {"organization-name": "Example Hosting GmbH", "date-range": day_range(8),
             "contact-info": "mailto:tls-reports@hosting.example",
             "report-id": "hosting.example-20261108-example.org-0001",
             "policies": [{"policy": sts_policy("example.org", "testing", MX_ORG, 86400),
                           "summary": {"total-successful-session-count": 12,
                                       "total-failure-session-count": 4},
                           "failure-details": [
                               {"result-type": "validation-failure",
                                "sending-mta-ip": "192.0.2.150",
                                "receiving-mx-hostname": "mail.example.org",
                                "receiving-ip": "203.0.113.25", "failed-session-count": 4,
                                "failure-reason-code": "X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY"}]}]}
    write("hosting-example.org-2026-11-08.eml",
          "Received: from relay.hosting.example (relay.hosting.example [192.0.2.150])\n"
          "\tby mx1.example.com (Postfix) with ESMTPS id 4Xq2Hk7c1Wz3\n"
          "\tfor <tlsrpt@example.org>; Mon,  9 Nov 2026 03:00:12 +0000 (UTC)\n"
          "From: \"Example Hosting TLS reports\" <TLS-Reports@Hosting.Example>\n"
          "To: tlsrpt@example.org\n"
          "Subject: =?UTF-8?Q?Report_Domain:_example.org_Submitter:_hosting.example_?=\n"
          " =?UTF-8?Q?Report-ID:_<hosting.example-20261108-example.org-0001>?=\n"
          "Date: Mon, 9 Nov 2026 04:00:11 +0100\n"
          "Message-ID: <tlsrpt.20261109030011.4f2a@relay.hosting.example>\n"
          "MIME-Version: 1.0\n"
          "TLS-Report-Domain: example.org\n"
          "TLS-Report-Submitter: hosting.example\n"
          "Content-Type: multipart/report; report-type=tlsrpt; boundary=\"b1_7c0e1f3a\"\n"
          "\n"
          "This is a multi-part message in MIME format.\n"
          "\n"
          "--b1_7c0e1f3a\n"
          "Content-Type: text/plain; charset=UTF-8\n"
          "\n"
          "Attached is the SMTP TLS report (RFC 8460) for example.org, 2026-11-08.\n"
          "Questions: tls-reports@hosting.example\n"
          "\n"
          "--b1_7c0e1f3a\n"
          "Content-Type: application/tlsrpt+json\n"
          "Content-Disposition: attachment; filename*=UTF-8''hosting.example%21example.org%21"
          "1794096000%211794182399.json\n"
          "Content-Transfer-Encoding: 7bit\n"
          "\n"
          + json.dumps(plain, indent=2) + "\n"
          "\n"
          "--b1_7c0e1f3a--\n")

    # 10. A colleague forwarded a report as an attachment (message/rfc822).
    inner_report = inbox_report(1, "example.com", sts_policy("example.com", "enforce", MX_COM), 1911)
    inbox_mail("_inner.eml", 1, "example.com", inner_report, sent=(2, 10, 40, 3))
    with open(os.path.join(OUT, "_inner.eml")) as f:
        inner = f.read()
    os.remove(os.path.join(OUT, "_inner.eml"))
    write("forwarded-example.com-2026-11-02.eml",
          "From: Alice Admin <alice@example.com>\n"
          "To: tlsrpt@example.com\n"
          "Subject: Fwd: Report Domain: example.com Submitter: inbox.example Report-ID:\n"
          " <2026.11.01T00.00.00Z+example.com@inbox.example>\n"
          "Date: Mon, 02 Nov 2026 14:22:09 +0100\n"
          "Message-ID: <c1d2e3f4-0a1b-4c5d-8e9f-a0b1c2d3e4f5@example.com>\n"
          "MIME-Version: 1.0\n"
          "Content-Type: multipart/mixed; boundary=\"------------fwd0Q8ZkMw3Yb1r\"\n"
          "\n"
          "--------------fwd0Q8ZkMw3Yb1r\n"
          "Content-Type: text/plain; charset=UTF-8; format=flowed\n"
          "Content-Transfer-Encoding: 7bit\n"
          "\n"
          "This one landed in my inbox instead of the report mailbox, forwarding.\n"
          "\n"
          "Alice\n"
          "\n"
          "--------------fwd0Q8ZkMw3Yb1r\n"
          "Content-Type: message/rfc822; name=\"TLS report.eml\"\n"
          "Content-Disposition: attachment; filename=\"TLS report.eml\"\n"
          "\n"
          + inner
          + "\n--------------fwd0Q8ZkMw3Yb1r--\n")

    # 11. A sloppy sender: octet-stream, name only in Content-Type, 60-column base64 with
    #     trailing blanks, and a date with an obsolete zone.
    sloppy = inbox_report(11, "example.com", sts_policy("example.com", "enforce", MX_COM), 77)
    sloppy["organization-name"] = "Relay Example Ltd"
    sloppy["contact-info"] = "noc@relay.example"
    sloppy["report-id"] = "relay.example:20261111:example.com"
    sb = base64.b64encode(gz(json.dumps(sloppy).encode())).decode()
    lines = "".join(l + ("  \n" if i % 3 == 0 else "\n") for i, l in enumerate(textwrap.wrap(sb, 60)))
    write("relay-example.com-2026-11-11.eml",
          "From: tlsrpt@relay.example\n"
          "To: tlsrpt@example.com\n"
          "Subject: TLS report for example.com\n"
          "Date: Thu, 12 Nov 2026 01:02:03 EST\n"
          "Message-ID: <20261112060203.12345@relay.example>\n"
          "MIME-Version: 1.0\n"
          "Content-Type: multipart/mixed; boundary=sep\n"
          "\n"
          "--sep\n"
          "Content-Type: text/plain\n"
          "\n"
          "TLS report attached.\n"
          "--sep\n"
          "Content-Type: application/octet-stream; name=\"relay.example!example.com!1794355200!1794441599.json.gz\"\n"
          "Content-Transfer-Encoding: base64\n"
          "\n"
          + lines
          + "--sep--\n")

    # 12. Not a report: ordinary mail that also reaches the report mailbox.
    write("newsletter-not-a-report.eml",
          "From: \"Example Registrar\" <news@registrar.example>\n"
          "To: tlsrpt@example.com\n"
          "Subject: Your domain example.com renews in 30 days\n"
          "Date: Tue, 03 Nov 2026 08:00:00 +0000\n"
          "Message-ID: <renewal-2026-11-03-example.com@registrar.example>\n"
          "MIME-Version: 1.0\n"
          "Content-Type: multipart/alternative; boundary=\"alt-7731\"\n"
          "\n"
          "--alt-7731\n"
          "Content-Type: text/plain; charset=utf-8\n"
          "\n"
          "Hello,\n\nyour domain example.com will be renewed automatically on 2026-12-03.\n"
          "\n"
          "--alt-7731\n"
          "Content-Type: text/html; charset=utf-8\n"
          "\n"
          "<p>Hello,</p><p>your domain <b>example.com</b> will be renewed automatically on "
          "2026-12-03.</p>\n"
          "--alt-7731--\n")


if __name__ == "__main__":
    main()
