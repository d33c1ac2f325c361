-- 0002: the views BI tools read. Names and columns are part of the interface (docs/schema.md).

-- Sessions per UTC day (of date_begin), policy domain, policy type, STS mode and reporter.
CREATE VIEW tlsrpt.daily_domain_stats AS
SELECT (r.date_begin AT TIME ZONE 'UTC')::date AS day,
       p.policy_domain,
       p.policy_type,
       p.sts_mode,
       r.reporter,
       count(DISTINCT r.id) AS reports,
       sum(p.successful_sessions)::bigint AS successful_sessions,
       sum(p.failed_sessions)::bigint AS failed_sessions,
       sum(p.successful_sessions + p.failed_sessions)::bigint AS total_sessions,
       sum(p.failed_sessions)::double precision
         / nullif(sum(p.successful_sessions + p.failed_sessions), 0)::double precision
         AS failure_rate
FROM tlsrpt.reports r
JOIN tlsrpt.policies p ON p.report_ref = r.id
GROUP BY 1, 2, 3, 4, 5;

-- Failed sessions per UTC day, policy domain, reporter, result type and the hosts involved.
-- Addresses are shown as sent when they are not valid inet values.
CREATE VIEW tlsrpt.failure_breakdown AS
SELECT (r.date_begin AT TIME ZONE 'UTC')::date AS day,
       p.policy_domain,
       p.policy_type,
       r.reporter,
       f.result_type,
       f.receiving_mx_hostname,
       coalesce(host(f.receiving_ip), f.receiving_ip_raw) AS receiving_ip,
       coalesce(host(f.sending_mta_ip), f.sending_mta_ip_raw) AS sending_mta_ip,
       count(DISTINCT r.id) AS reports,
       sum(f.failed_sessions)::bigint AS failed_sessions
FROM tlsrpt.failure_details f
JOIN tlsrpt.policies p ON p.id = f.policy_ref
JOIN tlsrpt.reports r ON r.id = f.report_ref
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;

-- Result types that a sending MTA honouring an MTA-STS policy in `enforce` mode would answer
-- by refusing delivery (RFC 8461 §5: no valid TLS with a matching, trusted certificate).
CREATE FUNCTION tlsrpt.blocks_enforce(result_type text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT result_type IN ('starttls-not-supported', 'certificate-host-mismatch',
                         'certificate-expired', 'certificate-not-trusted',
                         'validation-failure', 'sts-webpki-invalid')
$$;

-- MTA-STS readiness per policy domain over the last p_days days (reports whose date_end lies
-- in the window). Verdict rule (docs/schema.md):
--   no-data    no sessions reported for the domain in the window;
--   not-ready  no MTA-STS policy seen, or the share of sessions that enforce would block
--              (blocks_enforce() result types, plus failed sessions reported without
--              details) reaches p_threshold, or the share of sts-policy-fetch-error /
--              sts-policy-invalid sessions reaches p_threshold;
--   ready      otherwise.
CREATE FUNCTION tlsrpt.sts_readiness_over(p_days integer DEFAULT 30,
                                          p_threshold double precision DEFAULT 0.001)
RETURNS TABLE (policy_domain text, window_days integer, reporters bigint, reports bigint,
               sessions bigint, failed_sessions bigint, failure_rate double precision,
               sts_sessions bigint, sts_mode text, blocking_failed_sessions bigint,
               blocking_failure_rate double precision, blocking_result_types text[],
               policy_error_sessions bigint, verdict text, reasons text[])
LANGUAGE sql STABLE AS $$
WITH pol AS (
  SELECT p.id, p.report_ref, p.policy_domain, p.policy_type, p.sts_mode,
         p.successful_sessions, p.failed_sessions, r.reporter, r.date_begin
  FROM tlsrpt.policies p
  JOIN tlsrpt.reports r ON r.id = p.report_ref
  WHERE r.date_end > now() - make_interval(days => p_days)
    AND p.policy_domain IS NOT NULL
), dom AS (
  SELECT pol.policy_domain,
         count(DISTINCT pol.reporter) AS reporters,
         count(DISTINCT pol.report_ref) AS reports,
         sum(pol.successful_sessions + pol.failed_sessions)::bigint AS sessions,
         sum(pol.failed_sessions)::bigint AS failed,
         coalesce(sum(pol.successful_sessions + pol.failed_sessions)
                    FILTER (WHERE pol.policy_type = 'sts'), 0)::bigint AS sts_sessions,
         (array_agg(pol.sts_mode ORDER BY pol.date_begin DESC)
            FILTER (WHERE pol.sts_mode IS NOT NULL))[1] AS sts_mode,
         string_agg(DISTINCT pol.policy_type, ', ') AS policy_types
  FROM pol
  GROUP BY pol.policy_domain
), fail AS (
  SELECT pol.policy_domain, f.result_type, sum(f.failed_sessions)::bigint AS n,
         string_agg(DISTINCT f.receiving_mx_hostname, ', ') AS hosts
  FROM pol
  JOIN tlsrpt.failure_details f ON f.policy_ref = pol.id
  GROUP BY 1, 2
), cls AS (
  SELECT fail.policy_domain,
         sum(fail.n)::bigint AS detailed,
         coalesce(sum(fail.n) FILTER (WHERE tlsrpt.blocks_enforce(fail.result_type)), 0)::bigint
           AS blocking,
         array_agg(fail.result_type ORDER BY fail.n DESC, fail.result_type)
           FILTER (WHERE tlsrpt.blocks_enforce(fail.result_type)) AS blocking_types,
         coalesce(sum(fail.n) FILTER (WHERE fail.result_type IN ('sts-policy-fetch-error',
                                                                 'sts-policy-invalid')), 0)::bigint
           AS policy_errors,
         array_agg(format('%s: %s failed sessions%s', fail.result_type, fail.n,
                          coalesce(' (MX ' || fail.hosts || ')', ''))
                   ORDER BY fail.n DESC, fail.result_type)
           FILTER (WHERE tlsrpt.blocks_enforce(fail.result_type)
                      OR fail.result_type IN ('sts-policy-fetch-error', 'sts-policy-invalid'))
           AS type_reasons
  FROM fail
  GROUP BY fail.policy_domain
), m AS (
  SELECT dom.*,
         coalesce(cls.blocking, 0)
           + greatest(dom.failed - coalesce(cls.detailed, 0), 0) AS blocking,
         greatest(dom.failed - coalesce(cls.detailed, 0), 0) AS undetailed,
         coalesce(cls.policy_errors, 0) AS policy_errors,
         coalesce(cls.blocking_types, '{}') AS blocking_types,
         coalesce(cls.type_reasons, '{}') AS type_reasons
  FROM dom
  LEFT JOIN cls ON cls.policy_domain = dom.policy_domain
), v AS (
  SELECT m.*,
         m.blocking::double precision / nullif(m.sessions, 0) AS blocking_rate,
         m.policy_errors::double precision / nullif(m.sessions, 0) AS policy_error_rate
  FROM m
)
SELECT v.policy_domain,
       p_days,
       v.reporters,
       v.reports,
       v.sessions,
       v.failed,
       v.failed::double precision / nullif(v.sessions, 0),
       v.sts_sessions,
       v.sts_mode,
       v.blocking,
       coalesce(v.blocking_rate, 0),
       v.blocking_types,
       v.policy_errors,
       CASE
         WHEN coalesce(v.sessions, 0) = 0 THEN 'no-data'
         WHEN v.sts_sessions = 0 OR v.blocking_rate >= p_threshold
              OR v.policy_error_rate >= p_threshold THEN 'not-ready'
         ELSE 'ready'
       END,
       CASE
         WHEN coalesce(v.sessions, 0) = 0 THEN
           ARRAY[format('no sessions reported in the last %s days', p_days)]
         ELSE
           (CASE WHEN v.sts_sessions = 0 THEN
              ARRAY[format('no MTA-STS policy seen in the last %s days (policy types seen: %s)',
                           p_days, v.policy_types)]
            ELSE '{}'::text[] END)
           || (CASE WHEN v.blocking_rate >= p_threshold OR v.policy_error_rate >= p_threshold THEN
                 ARRAY[format('%s%% of %s sessions would fail under enforce (threshold %s%%)',
                              round((100 * coalesce(v.blocking_rate, 0))::numeric, 3),
                              v.sessions, round((100 * p_threshold)::numeric, 3))]
                 || v.type_reasons
                 || (CASE WHEN v.undetailed > 0 THEN
                       ARRAY[format('%s failed sessions reported without failure details',
                                    v.undetailed)]
                     ELSE '{}'::text[] END)
               ELSE '{}'::text[] END)
       END
FROM v
ORDER BY v.policy_domain
$$;

-- The default window: the last 30 days, threshold 0.1%.
CREATE VIEW tlsrpt.sts_readiness AS
SELECT * FROM tlsrpt.sts_readiness_over(30, 0.001);
