-- 0003: read-only access for BI tools. Roles are cluster-wide, so the role is created only
-- when absent (and only when we may create roles); the grants are per database and can be
-- repeated at any time with tlsrpt.grant_read_access(role).

CREATE FUNCTION tlsrpt.grant_read_access(p_role name) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('GRANT USAGE ON SCHEMA tlsrpt TO %I', p_role);
  EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA tlsrpt TO %I', p_role);
  EXECUTE format('GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA tlsrpt TO %I', p_role);
  -- Tables and views added by later migrations (run by the same role) follow.
  EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA tlsrpt GRANT SELECT ON TABLES TO %I',
                 p_role);
END
$$;

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tlsrpt_reader') THEN
    IF NOT EXISTS (SELECT 1 FROM pg_roles
                   WHERE rolname = current_user AND (rolcreaterole OR rolsuper)) THEN
      RAISE NOTICE 'role tlsrpt_reader not created (no CREATEROLE); see docs/schema.md';
      RETURN;
    END IF;
    BEGIN
      CREATE ROLE tlsrpt_reader NOLOGIN;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
      NULL;  -- another database's migration created it at the same moment
    END;
  END IF;
  PERFORM tlsrpt.grant_read_access('tlsrpt_reader');
END
$$;
