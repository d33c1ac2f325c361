-- SPDX-License-Identifier: Apache-2.0
-- Fills an empty, migrated database with :reports synthetic reports for the dashboard bench
-- (scripts/bench.sh): 200 policy domains, 30 reporters, spread over the last 30 UTC days, two
-- policies each (sts testing + no-policy-found), a failure detail on every fourth. Day, reporter
-- and domain vary independently (every domain hears from every reporter every day), which is
-- the most rollup rows a million reports can make here: 30 x 30 x 200 x 2 = 360,000. Written by
-- SQL rather than through the store, so a million reports take a minute or two instead of
-- several; the rollup triggers run as they do for the store's COPY (one statement each).
\set ON_ERROR_STOP 1
BEGIN;
INSERT INTO tlsrpt.reports (reporter, organization_name, report_id, date_begin, date_end,
                            policy_count, successful_sessions, failed_sessions, raw_json,
                            raw_sha256, content_sha256)
SELECT 'Reporter ' || (i / 30 % 30), 'Reporter ' || (i / 30 % 30), 'bench-' || i, d,
       d + interval '1 day' - interval '1 second', 2, 1000, 2,
       jsonb_build_object('organization-name', 'Reporter ' || (i / 30 % 30), 'report-id', 'bench-' || i),
       md5(i::text), md5(i::text)
FROM generate_series(1, :reports) AS i,
     LATERAL (SELECT (date_trunc('day', now() AT TIME ZONE 'UTC')
                      - make_interval(days => i % 30)) AT TIME ZONE 'UTC' AS d) AS x;
INSERT INTO tlsrpt.policies (report_ref, position, policy_type, policy_domain, sts_mode,
                             successful_sessions, failed_sessions)
SELECT id, 0, 'sts', 'domain-' || (id / 900 % 200) || '.example', 'testing', 990, 2
FROM tlsrpt.reports
UNION ALL
SELECT id, 1, 'no-policy-found', 'domain-' || (id / 900 % 200) || '.example', NULL, 10, 0
FROM tlsrpt.reports;
INSERT INTO tlsrpt.failure_details (report_ref, policy_ref, position, result_type,
                                    receiving_mx_hostname, failed_sessions)
SELECT p.report_ref, p.id, 0,
       (ARRAY['certificate-expired', 'starttls-not-supported', 'sts-policy-fetch-error',
              'validation-failure'])[1 + p.report_ref / 28 % 4],
       'mx' || (p.report_ref % 3) || '.' || p.policy_domain, 2
FROM tlsrpt.policies p
WHERE p.position = 0 AND p.report_ref / 7 % 4 = 0;
COMMIT;
ANALYZE;
