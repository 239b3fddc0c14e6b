-- Issue 16, findings 4 and 6.
--
-- 4. The nightly job's records — conflict_history, report_run and the calendar SEQUENCE storage
--    (calendar_event_sequence, through relplan_record_calendar_events) — were writable by every
--    relplan login: a login without membership forged "resolved after 30 days" entries and
--    "open for 400 days" ages in other groups' reports, and 200,000 forged rows made the next
--    nightly take a minute and gigabytes. Now only the role `relplan_reporter` writes them, a
--    NOLOGIN role an admin grants to the login that runs the nightly job
--    (`relplan user create LOGIN --reporter`, i.e. relplan_grant_reporter); everyone reads them.
--
-- 6. A group's release model shadowed the shared one for everybody (lookup by code took the
--    highest version of any owner), and anyone could take version 2147483647 of a code so the
--    admins could never publish it again. Now a model code belongs to its owner (a group, or the
--    admins for shared ones): versions are unique per owner and assigned by the database, a plan's
--    model is a shared one or its own group's, and relplan looks a code up as the group's own,
--    else the shared one.

-- 4. The reporter role ---------------------------------------------------------------------------

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'relplan_reporter') THEN
        CREATE ROLE relplan_reporter NOLOGIN;
    END IF;
END $$;

-- REVOKE on the table also revokes the column privileges sql/0010 narrowed the grants to.
REVOKE INSERT, UPDATE, DELETE ON conflict_history, report_run FROM relplan_user;
REVOKE EXECUTE ON FUNCTION relplan_record_calendar_events(text[], text[], text[], timestamptz) FROM relplan_user;

-- Column privileges from the catalog, as sql/0010 gives everyone else's: never a key for UPDATE,
-- never what the database sets (report_run's run_by and finished_at: the acting role and now()).
GRANT SELECT ON conflict_history, report_run TO relplan_reporter;
DO $$
DECLARE
    g record;
BEGIN
    FOR g IN SELECT * FROM (VALUES ('conflict_history'::regclass, 'INSERT'), ('conflict_history'::regclass, 'UPDATE'),
                                   ('report_run'::regclass, 'INSERT')) AS t (tbl, privilege)
    LOOP
        EXECUTE format('GRANT %s (%s) ON %s TO relplan_reporter', g.privilege,
                       (SELECT string_agg(quote_ident(x), ', ') FROM unnest(relplan_writer_columns(g.tbl, g.privilege)) AS x), g.tbl);
    END LOOP;
END $$;
GRANT SELECT ON calendar_event_sequence TO relplan_reporter;
GRANT EXECUTE ON FUNCTION relplan_record_calendar_events(text[], text[], text[], timestamptz) TO relplan_reporter;

DROP POLICY everyone ON conflict_history;
CREATE POLICY read_all ON conflict_history FOR SELECT TO relplan_user, relplan_reporter, CURRENT_USER USING (true);
CREATE POLICY reporter_records ON conflict_history FOR INSERT TO relplan_reporter WITH CHECK (true);
CREATE POLICY reporter_updates ON conflict_history FOR UPDATE TO relplan_reporter USING (true) WITH CHECK (true);
-- Nobody deletes history (no DELETE privilege, no DELETE policy).

DROP POLICY runner_records ON report_run;
DROP POLICY read_all ON report_run;
CREATE POLICY read_all ON report_run FOR SELECT TO relplan_user, relplan_reporter, CURRENT_USER USING (true);
CREATE POLICY reporter_records ON report_run FOR INSERT TO relplan_reporter WITH CHECK (run_by = relplan_acting_role());

DROP POLICY read_all ON calendar_event_sequence;
CREATE POLICY read_all ON calendar_event_sequence FOR SELECT TO relplan_user, relplan_reporter, CURRENT_USER USING (true);

-- `relplan user create LOGIN --reporter`: an admin's act, like making someone an admin, for
-- someone else. The login must be a relplan user already (relplan_create_user), so the job reads
-- what everybody reads.
CREATE FUNCTION relplan_grant_reporter(login name) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = login AND r.rolcanlogin) THEN
        RAISE EXCEPTION 'no login "%": create it first (relplan user create %)', login, login USING ERRCODE = 'undefined_object';
    END IF;
    IF NOT pg_has_role(login, 'relplan_user', 'MEMBER') THEN
        RAISE EXCEPTION '"%" is not a relplan user: relplan user create % first', login, login USING ERRCODE = 'undefined_object';
    END IF;
    -- As with memberships (sql/0010), nobody gives the role to themselves or a role they can become
    -- (a superuser can become every role, and needs no function to grant any).
    IF login = public.relplan_acting_role()
       OR (pg_has_role(public.relplan_acting_role(), login, 'MEMBER')
           AND NOT (SELECT r.rolsuper FROM pg_roles r WHERE r.rolname = public.relplan_acting_role())) THEN
        RAISE EXCEPTION '% may not make itself the nightly job''s login: another admin grants it', login
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    EXECUTE format('GRANT relplan_reporter TO %I', login);
END $$;
REVOKE ALL ON FUNCTION relplan_grant_reporter(name) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION relplan_grant_reporter(name) TO relplan_admin;

-- relplan's own roles are not login names (as sql/0013, relplan_reporter added to the reserved ones).
CREATE OR REPLACE FUNCTION relplan_create_user(login name, password text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF login !~ '^[a-z_][a-z0-9_.-]{0,62}$' THEN
        RAISE EXCEPTION 'invalid login name "%": use lower-case letters, digits, _ . -', login USING ERRCODE = 'invalid_name';
    END IF;
    IF login LIKE 'pg\_%' OR login IN ('relplan_user', 'relplan_admin', 'relplan_reporter') THEN
        RAISE EXCEPTION 'the login name "%" is reserved', login USING ERRCODE = 'reserved_name';
    END IF;
    IF password IS NOT NULL AND password !~ '^SCRAM-SHA-256\$[0-9]+:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$' THEN
        RAISE EXCEPTION 'relplan_create_user takes a SCRAM-SHA-256 verifier, not a password'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = login) THEN
        EXECUTE format('GRANT relplan_user TO %I', login);
    ELSIF password IS NULL THEN
        EXECUTE format('CREATE ROLE %I LOGIN IN ROLE relplan_user', login);
    ELSE
        EXECUTE format('CREATE ROLE %I LOGIN PASSWORD %L IN ROLE relplan_user', login, password);
    END IF;
END $$;

-- 6. Model namespaces ----------------------------------------------------------------------------

-- One version sequence per owner and code: a group's STANDARD no longer shares (or blocks) the
-- shared STANDARD's versions. Existing rows already meet the narrower rule.
ALTER TABLE release_model DROP CONSTRAINT release_model_code_version_key;
ALTER TABLE release_model ADD CONSTRAINT release_model_owner_code_version_key UNIQUE NULLS NOT DISTINCT (group_id, code, version);

-- The database numbers versions: the owner's highest for the code, plus one. Whatever version an
-- INSERT names is replaced (people cannot name it at all: no privilege on the column). Two
-- concurrent inserts of one owner's code compute the same number; the second then fails on the
-- unique constraint above (SQLSTATE 23505) once the first commits, and relplan retries it.
CREATE FUNCTION release_model_version() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    latest integer;
BEGIN
    IF NEW.group_id IS NULL THEN
        latest := (SELECT max(m.version) FROM public.release_model m WHERE m.group_id IS NULL AND m.code = NEW.code);
    ELSE
        latest := (SELECT max(m.version) FROM public.release_model m WHERE m.group_id = NEW.group_id AND m.code = NEW.code);
    END IF;
    -- Only a version taken before this migration can be this high, and it blocks only its owner.
    IF latest >= 2147483647 THEN
        RAISE EXCEPTION 'release model % of this owner has no version left after %: store it under another code', NEW.code, latest
            USING ERRCODE = 'check_violation';
    END IF;
    NEW.version := coalesce(latest, 0) + 1;
    RETURN NEW;
END $$;
CREATE TRIGGER release_model_version BEFORE INSERT ON release_model FOR EACH ROW EXECUTE FUNCTION release_model_version();
COMMENT ON COLUMN release_model.version IS 'set by the database: the owner''s next version of the code';
REVOKE INSERT (version), UPDATE (version) ON release_model FROM relplan_user;

-- A plan is made from a shared model or one of its own group's, never another group's.
CREATE FUNCTION release_plan_model_owner() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    owner integer;
    model_code text;
BEGIN
    SELECT m.group_id, m.code INTO owner, model_code FROM public.release_model m WHERE m.id = NEW.model_id;
    IF owner IS NOT NULL AND owner <> NEW.group_id THEN
        RAISE EXCEPTION 'plan % may use a shared release model or its own group''s, not another group''s model %', NEW.code, model_code
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER release_plan_model_owner BEFORE INSERT OR UPDATE OF model_id, group_id ON release_plan
    FOR EACH ROW WHEN (NEW.model_id IS NOT NULL) EXECUTE FUNCTION release_plan_model_owner();

-- Plans made from another group's model before this migration keep it (their releases were
-- planned by it); they are named here so an admin can look at them.
DO $$
DECLARE
    stray record;
BEGIN
    FOR stray IN
        SELECT g.code AS plan_group, p.code AS plan, m.code AS model, m.version, o.code AS owner
        FROM release_plan p JOIN management_group g ON g.id = p.group_id
        JOIN release_model m ON m.id = p.model_id JOIN management_group o ON o.id = m.group_id
        WHERE m.group_id <> p.group_id
    LOOP
        RAISE NOTICE 'plan %/% uses model % version % of group %: kept; a new plan can no longer do that',
            stray.plan_group, stray.plan, stray.model, stray.version, stray.owner;
    END LOOP;
END $$;
