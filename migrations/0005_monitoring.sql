-- 0005: monitoring (issue 19). Readiness for enforce becomes a rule over time, and the state
-- the findings engine keeps: mailbox passes (collector health) and alerts (notify once when a
-- finding opens, once when it resolves).

-- MTA-STS readiness per policy domain as of p_as_of, over reports whose date_end lies in the
-- p_days (at least p_min_days) days before it: a report counts once its period has ended, so
-- the verdict as of yesterday is what it was yesterday (the readiness-changed finding). "Ready for enforce" (docs/schema.md) needs all of:
--   days            reports on at least p_min_days UTC days under an STS policy in testing mode
--                   (days already in enforce count too: such a domain stays ready);
--   reporters       at least p_min_reporters distinct reporters;
--   failure-rate    the share of sessions enforce would block (blocks_enforce() result types,
--                   plus failed sessions reported without details) at or under p_threshold, and
--                   so the share of sts-policy-fetch-error / sts-policy-invalid sessions;
--   recent-failures no blocking failure in reports ending in the last p_quiet_days days;
--   sts-policy      an MTA-STS policy seen at all.
-- `missing` lists the keys of the unmet conditions, `reasons` says the same in words, the
-- first of them how far the domain is ("9 of 14 days ..."). The first fifteen columns are those
-- of sts_readiness_over() (0002), so the sts_readiness view keeps its columns.
CREATE FUNCTION tlsrpt.sts_readiness_at(p_as_of timestamptz DEFAULT now(),
                                        p_days integer DEFAULT 30,
                                        p_threshold double precision DEFAULT 0.001,
                                        p_min_days integer DEFAULT 14,
                                        p_min_reporters integer DEFAULT 2,
                                        p_quiet_days integer DEFAULT 3)
RETURNS TABLE (policy_domain text, window_days integer, reporters bigint, reports bigint,
               sessions bigint, failed_sessions bigint, failure_rate double precision,
               sts_sessions bigint, sts_mode text, blocking_failed_sessions bigint,
               blocking_failure_rate double precision, blocking_result_types text[],
               policy_error_sessions bigint, verdict text, reasons text[],
               min_days integer, observed_days integer, min_reporters integer,
               recent_blocking_failed_sessions bigint, last_blocking_failure date,
               missing text[])
LANGUAGE sql STABLE AS $$
WITH pol AS (
  SELECT p.id, p.report_ref, p.policy_domain, p.policy_type, p.sts_mode,
         p.successful_sessions, p.failed_sessions, r.reporter, r.date_begin, r.date_end,
         (r.date_begin AT TIME ZONE 'UTC')::date AS day
  FROM tlsrpt.policies p
  JOIN tlsrpt.reports r ON r.id = p.report_ref
  WHERE r.date_end > p_as_of - make_interval(days => greatest(p_days, p_min_days))
    AND r.date_end <= p_as_of
    AND p.policy_domain IS NOT NULL
), det AS (
  SELECT f.policy_ref,
         sum(f.failed_sessions) AS detailed,
         coalesce(sum(f.failed_sessions) FILTER (WHERE tlsrpt.blocks_enforce(f.result_type)), 0)
           AS blocking,
         coalesce(sum(f.failed_sessions) FILTER (WHERE f.result_type IN
                    ('sts-policy-fetch-error', 'sts-policy-invalid')), 0) AS policy_errors
  FROM tlsrpt.failure_details f
  JOIN pol ON pol.id = f.policy_ref
  GROUP BY f.policy_ref
), pb AS (
  SELECT pol.*,
         coalesce(det.blocking, 0)
           + greatest(pol.failed_sessions - coalesce(det.detailed, 0), 0) AS blocking,
         greatest(pol.failed_sessions - coalesce(det.detailed, 0), 0) AS undetailed,
         coalesce(det.policy_errors, 0) AS policy_errors
  FROM pol
  LEFT JOIN det ON det.policy_ref = pol.id
), dom AS (
  SELECT pb.policy_domain,
         count(DISTINCT pb.reporter) AS reporters,
         count(DISTINCT pb.report_ref) AS reports,
         sum(pb.successful_sessions + pb.failed_sessions)::bigint AS sessions,
         sum(pb.failed_sessions)::bigint AS failed,
         coalesce(sum(pb.successful_sessions + pb.failed_sessions)
                    FILTER (WHERE pb.policy_type = 'sts'), 0)::bigint AS sts_sessions,
         (array_agg(pb.sts_mode ORDER BY pb.date_begin DESC)
            FILTER (WHERE pb.sts_mode IS NOT NULL))[1] AS sts_mode,
         string_agg(DISTINCT pb.policy_type, ', ') AS policy_types,
         sum(pb.blocking)::bigint AS blocking,
         sum(pb.undetailed)::bigint AS undetailed,
         sum(pb.policy_errors)::bigint AS policy_errors,
         count(DISTINCT pb.day) FILTER (WHERE pb.policy_type = 'sts'
                                          AND pb.sts_mode IN ('testing', 'enforce'))::integer
           AS observed_days,
         coalesce(sum(pb.blocking) FILTER (WHERE pb.date_end > p_as_of
                                               - make_interval(days => p_quiet_days)), 0)::bigint
           AS recent_blocking,
         max(pb.day) FILTER (WHERE pb.blocking > 0) AS last_blocking_day
  FROM pb
  GROUP BY pb.policy_domain
), fail AS (
  SELECT pol.policy_domain, f.result_type, sum(f.failed_sessions)::bigint AS n,
         string_agg(DISTINCT f.receiving_mx_hostname, ', ') AS hosts
  FROM pol
  JOIN tlsrpt.failure_details f ON f.policy_ref = pol.id
  GROUP BY 1, 2
), cls AS (
  SELECT fail.policy_domain,
         array_agg(fail.result_type ORDER BY fail.n DESC, fail.result_type)
           FILTER (WHERE tlsrpt.blocks_enforce(fail.result_type)) AS blocking_types,
         array_agg(format('%s: %s failed sessions%s', fail.result_type, fail.n,
                          coalesce(' (MX ' || fail.hosts || ')', ''))
                   ORDER BY fail.n DESC, fail.result_type)
           FILTER (WHERE tlsrpt.blocks_enforce(fail.result_type)
                      OR fail.result_type IN ('sts-policy-fetch-error', 'sts-policy-invalid'))
           AS type_reasons
  FROM fail
  GROUP BY fail.policy_domain
), v AS (
  SELECT dom.*,
         coalesce(cls.blocking_types, '{}') AS blocking_types,
         coalesce(cls.type_reasons, '{}') AS type_reasons,
         coalesce(dom.blocking::double precision / nullif(dom.sessions, 0), 0) AS blocking_rate,
         coalesce(dom.policy_errors::double precision / nullif(dom.sessions, 0), 0)
           AS policy_error_rate
  FROM dom
  LEFT JOIN cls ON cls.policy_domain = dom.policy_domain
), g AS (
  SELECT v.*,
         (CASE WHEN v.sts_sessions = 0 THEN ARRAY['sts-policy'] ELSE '{}'::text[] END)
         || (CASE WHEN v.observed_days < p_min_days THEN ARRAY['days'] ELSE '{}'::text[] END)
         || (CASE WHEN v.reporters < p_min_reporters THEN ARRAY['reporters']
             ELSE '{}'::text[] END)
         || (CASE WHEN v.blocking_rate > p_threshold OR v.policy_error_rate > p_threshold
             THEN ARRAY['failure-rate'] ELSE '{}'::text[] END)
         || (CASE WHEN v.recent_blocking > 0 THEN ARRAY['recent-failures']
             ELSE '{}'::text[] END) AS missing
  FROM v
)
SELECT g.policy_domain,
       greatest(p_days, p_min_days),
       g.reporters,
       g.reports,
       g.sessions,
       g.failed,
       g.failed::double precision / nullif(g.sessions, 0),
       g.sts_sessions,
       g.sts_mode,
       g.blocking,
       g.blocking_rate,
       g.blocking_types,
       g.policy_errors,
       CASE
         WHEN coalesce(g.sessions, 0) = 0 THEN 'no-data'
         WHEN cardinality(g.missing) > 0 THEN 'not-ready'
         ELSE 'ready'
       END,
       CASE
         WHEN coalesce(g.sessions, 0) = 0 THEN
           ARRAY[format('no sessions reported in the last %s days',
                        greatest(p_days, p_min_days))]
         ELSE
           (CASE WHEN 'sts-policy' = ANY (g.missing) THEN
              ARRAY[format('no MTA-STS policy seen in the last %s days (policy types seen: %s)',
                           greatest(p_days, p_min_days), g.policy_types)]
            ELSE '{}'::text[] END)
           || (CASE WHEN 'days' = ANY (g.missing) THEN
                 ARRAY[format('%s of %s days of reports in testing mode', g.observed_days,
                              p_min_days)]
               ELSE '{}'::text[] END)
           || (CASE WHEN 'reporters' = ANY (g.missing) THEN
                 ARRAY[format('%s of %s reporters', g.reporters, p_min_reporters)]
               ELSE '{}'::text[] END)
           || (CASE WHEN 'failure-rate' = ANY (g.missing) THEN
                 ARRAY[format('%s%% of %s sessions would fail under enforce (threshold %s%%)',
                              round((100 * g.blocking_rate)::numeric, 3),
                              g.sessions, round((100 * p_threshold)::numeric, 3))]
                 || g.type_reasons
                 || (CASE WHEN g.undetailed > 0 THEN
                       ARRAY[format('%s failed sessions reported without failure details',
                                    g.undetailed)]
                     ELSE '{}'::text[] END)
               ELSE '{}'::text[] END)
           || (CASE WHEN 'recent-failures' = ANY (g.missing) THEN
                 ARRAY[format('%s blocking failed sessions in the last %s days (last on %s)',
                              g.recent_blocking, p_quiet_days, g.last_blocking_day)]
               ELSE '{}'::text[] END)
       END,
       p_min_days,
       g.observed_days,
       p_min_reporters,
       g.recent_blocking,
       g.last_blocking_day,
       g.missing
FROM g
ORDER BY g.policy_domain
$$;

-- The view keeps its fifteen columns and their meaning, now by the rule over time (30 days,
-- threshold 0.1 %, 14 days, 2 reporters, 3 quiet days); the progress columns follow.
CREATE OR REPLACE VIEW tlsrpt.sts_readiness AS
SELECT * FROM tlsrpt.sts_readiness_at(now(), 30, 0.001, 14, 2, 3);

-- The outcome of the last pass over each mailbox (`poll` and `run` write it), for the
-- collector health rule: failing_since is the start of the current run of failed passes.
CREATE TABLE tlsrpt.mailbox_passes (
  mailbox       text PRIMARY KEY,
  last_pass     timestamptz NOT NULL,
  last_success  timestamptz,
  failing_since timestamptz,
  last_error    text
);

-- One row per time a finding was open: opened when the engine first saw it, resolved when it
-- first did not. At most one open row per key. payload is the finding as `check --format json`
-- prints it. last_notified: the last delivery of this row's opening or resolution.
CREATE TABLE tlsrpt.alerts (
  id            bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  key           text        NOT NULL,
  rule          text        NOT NULL,
  severity      text        NOT NULL,
  policy_domain text,
  title         text        NOT NULL,
  opened        timestamptz NOT NULL DEFAULT now(),
  resolved      timestamptz,
  last_seen     timestamptz NOT NULL DEFAULT now(),
  last_notified timestamptz,
  payload       jsonb       NOT NULL
);
CREATE UNIQUE INDEX alerts_open_key ON tlsrpt.alerts (key) WHERE resolved IS NULL;
CREATE INDEX alerts_opened_idx ON tlsrpt.alerts (opened);

-- What each notification channel still owes: one row per alert, channel and event (opened or
-- resolved). A channel that fails is retried after next_attempt (the notifier's backoff);
-- delivered is set once it took the message.
CREATE TABLE tlsrpt.alert_deliveries (
  alert_ref    bigint      NOT NULL REFERENCES tlsrpt.alerts (id) ON DELETE CASCADE,
  channel      text        NOT NULL,
  event        text        NOT NULL CHECK (event IN ('opened', 'resolved')),
  attempts     integer     NOT NULL DEFAULT 0,
  next_attempt timestamptz NOT NULL DEFAULT now(),
  delivered    timestamptz,
  last_error   text,
  PRIMARY KEY (alert_ref, channel, event)
);
CREATE INDEX alert_deliveries_pending_idx ON tlsrpt.alert_deliveries (next_attempt)
  WHERE delivered IS NULL;
