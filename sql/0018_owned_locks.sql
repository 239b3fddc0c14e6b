-- Locks nobody else can take, and no table lock for those who may not write (issue 16, findings
-- 11 and 12).
--
-- 1. Advisory locks belong to every session of the cluster: any login could take
--    pg_advisory_lock(7218) and stop every nightly report, or (7216, env) and 0008's week keys and
--    hang every booking confirmation, or the model key of `model add`. These are now row locks on
--    relplan_lock, a table nobody but its owner holds a privilege on (nobody can SELECT … FOR
--    UPDATE or LOCK it), taken only inside SECURITY DEFINER functions with a fixed search_path:
--      ('nightly', 0, 0)        FOR UPDATE SKIP LOCKED by relplan_nightly_lock(), held by the
--                               nightly run's lock transaction for the whole run; only those who
--                               may run the report (relplan_reporter) take it (relplan_may_run_nightly).
--      ('environment', env, 0)  FOR SHARE (a range of at most 8 weeks) or FOR NO KEY UPDATE
--                               (longer), as 0008's shared/exclusive (7216, env); made with the
--                               environment (trigger), so it is there, committed, when one books.
--      ('week', env, week)      FOR NO KEY UPDATE for every week the range touches, as 0008's
--                               (env, -1 - week). Rows are made on first use (ON CONFLICT DO
--                               NOTHING) and never deleted; taken in one order (environment, then
--                               weeks ascending), as before.
--      ('model', hash, 0)       FOR UPDATE by relplan_lock_model(code): versions of one model code
--                               one at a time (hash = hashtext(code)), for admins and planners.
--    The scheduler's lock (7217) became scheduler_lock in 0014 and is not changed here.
-- 2. LOCK TABLE needs, on PostgreSQL 15, table-level privileges only (column privileges do not
--    count): ACCESS SHARE needs SELECT; ROW EXCLUSIVE INSERT, UPDATE, DELETE or TRUNCATE; every
--    stronger mode (and ROW SHARE) UPDATE, DELETE or TRUNCATE. Row-level security does not narrow
--    it, so every relplan login held DELETE on the group-owned tables and could freeze them with
--    LOCK TABLE … IN ACCESS EXCLUSIVE MODE. Every table-level privilege but SELECT that
--    relplan_user held now belongs to relplan_writer (NOLOGIN), which the database grants to a
--    login while it has a membership with a write role (member, release-manager, manager) and
--    revokes when its last one goes (triggers on membership), and to relplan_admin. Viewers and
--    logins without a membership keep table-level SELECT only (and 0010's column-level INSERT/
--    UPDATE, narrowed row by row: their SELECT … FOR UPDATE locks no row, as no UPDATE policy
--    lets them).
-- 3. Only relplan's logins connect: CONNECT and TEMPORARY on the database are revoked from PUBLIC
--    and granted to relplan_user (a login with no relplan role cannot open a session here).

CREATE TABLE relplan_lock (
    scope text NOT NULL CHECK (scope IN ('nightly', 'environment', 'week', 'model')),
    key bigint NOT NULL DEFAULT 0,
    week integer NOT NULL DEFAULT 0,
    PRIMARY KEY (scope, key, week)
);
REVOKE ALL ON relplan_lock FROM PUBLIC;
INSERT INTO relplan_lock (scope) VALUES ('nightly');

-- Who may run the nightly report (and so take its lock): admins and logins with a write role in
-- some group, by login or by the role they act as. Its own function, so that who the reporter is
-- can change in one place.
-- The nightly job's login (relplan_reporter, sql/0019; the role is looked up when called).
CREATE FUNCTION relplan_may_run_nightly() RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
    RETURN pg_has_role(session_user, 'relplan_reporter', 'MEMBER');

-- Takes the nightly lock without waiting, in the caller's transaction (it lasts until that
-- transaction ends). When another run holds it, got is false and holder_pid names that run's
-- backend (the transaction that locked the row, as pg_locks shows every role). No exception block:
-- the lock must belong to the top transaction, whose id pg_locks shows.
CREATE FUNCTION relplan_nightly_lock(OUT got boolean, OUT holder_pid integer)
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF NOT relplan_may_run_nightly() THEN
        RAISE EXCEPTION 'only the nightly job''s login (relplan_reporter) runs the nightly report'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    PERFORM 1 FROM public.relplan_lock WHERE scope = 'nightly' AND key = 0 AND week = 0 FOR UPDATE SKIP LOCKED;
    IF FOUND THEN
        got := true;
        RETURN;
    END IF;
    got := false;
    SELECT l.pid INTO holder_pid
    FROM public.relplan_lock k JOIN pg_locks l
         ON l.locktype = 'transactionid' AND l.transactionid = k.xmax AND l.mode = 'ExclusiveLock' AND l.granted
    WHERE k.scope = 'nightly' AND k.key = 0 AND k.week = 0;
END $$;

-- Versions of one model code are made one at a time: waits (up to lock_timeout) for the other.
CREATE FUNCTION relplan_lock_model(code text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    h constant bigint := hashtext(code);
BEGIN
    IF NOT (relplan_is_admin(session_user) OR relplan_is_admin(relplan_acting_role()::name)
            OR cardinality(relplan_groups_with_role(session_user, '{release-manager,manager}')) > 0
            OR cardinality(relplan_groups_with_role(relplan_acting_role()::name, '{release-manager,manager}')) > 0) THEN
        RAISE EXCEPTION 'only an admin or a planner adds release models' USING ERRCODE = 'insufficient_privilege';
    END IF;
    INSERT INTO public.relplan_lock (scope, key) VALUES ('model', h) ON CONFLICT DO NOTHING;
    PERFORM 1 FROM public.relplan_lock WHERE scope = 'model' AND key = h AND week = 0 FOR UPDATE;
END $$;

REVOKE ALL ON FUNCTION relplan_may_run_nightly(), relplan_nightly_lock(), relplan_lock_model(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION relplan_may_run_nightly(), relplan_nightly_lock(), relplan_lock_model(text) TO relplan_user;

CREATE OR REPLACE FUNCTION environment_booking_capacity() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    env_capacity integer;
    overlapping bigint;
    peak integer;
    holders text;
    first_week integer;
    last_week integer;
    locked bigint;
BEGIN
    IF NEW.status <> 'confirmed' THEN
        RETURN NULL;
    END IF;
    first_week := floor(extract(epoch FROM lower(NEW.during)) / 604800)::integer;
    last_week := floor(extract(epoch FROM upper(NEW.during)) / 604800)::integer;
    IF last_week - first_week < 8 THEN
        PERFORM 1 FROM public.relplan_lock WHERE scope = 'environment' AND key = NEW.environment_id AND week = 0 FOR SHARE;
        IF NOT FOUND THEN
            INSERT INTO public.relplan_lock (scope, key) VALUES ('environment', NEW.environment_id) ON CONFLICT DO NOTHING;
            PERFORM 1 FROM public.relplan_lock WHERE scope = 'environment' AND key = NEW.environment_id AND week = 0 FOR SHARE;
        END IF;
        PERFORM 1 FROM public.relplan_lock
            WHERE scope = 'week' AND key = NEW.environment_id AND week BETWEEN first_week AND last_week
            ORDER BY week FOR NO KEY UPDATE;
        GET DIAGNOSTICS locked = ROW_COUNT;
        IF locked < last_week - first_week + 1 THEN
            INSERT INTO public.relplan_lock (scope, key, week)
                SELECT 'week', NEW.environment_id, w FROM generate_series(first_week, last_week) AS w
                ON CONFLICT DO NOTHING;
            PERFORM 1 FROM public.relplan_lock
                WHERE scope = 'week' AND key = NEW.environment_id AND week BETWEEN first_week AND last_week
                ORDER BY week FOR NO KEY UPDATE;
        END IF;
    ELSE
        INSERT INTO public.relplan_lock (scope, key) VALUES ('environment', NEW.environment_id) ON CONFLICT DO NOTHING;
        PERFORM 1 FROM public.relplan_lock WHERE scope = 'environment' AND key = NEW.environment_id AND week = 0
            FOR NO KEY UPDATE;
    END IF;
    SELECT capacity INTO env_capacity FROM environment WHERE id = NEW.environment_id;
    IF env_capacity <= 1 THEN
        RETURN NULL;  -- the exclusion constraint holds these
    END IF;
    -- The peak is at most the number of confirmed bookings overlapping the new one (itself included).
    SELECT count(*) INTO overlapping FROM environment_booking b
    WHERE b.environment_id = NEW.environment_id AND b.status = 'confirmed' AND b.during && NEW.during;
    IF overlapping <= env_capacity THEN
        RETURN NULL;
    END IF;
    -- The most confirmed bookings that overlap at one instant within the new booking's range:
    -- that peak is at the start of one of them (or of the new one).
    SELECT max(n) INTO peak FROM (
        SELECT (SELECT count(*) FROM environment_booking b
                WHERE b.environment_id = NEW.environment_id AND b.status = 'confirmed' AND b.during @> p.at) AS n
        FROM (SELECT greatest(lower(b.during), lower(NEW.during)) AS at
              FROM environment_booking b
              WHERE b.environment_id = NEW.environment_id AND b.status = 'confirmed' AND b.during && NEW.during) AS p
    ) AS counts;
    IF peak > env_capacity THEN
        SELECT string_agg(g.code || '/' || r.code, ', ' ORDER BY g.code, r.code) INTO holders
        FROM environment_booking b JOIN release r ON r.id = b.release_id JOIN management_group g ON g.id = r.group_id
        WHERE b.environment_id = NEW.environment_id AND b.status = 'confirmed' AND b.during && NEW.during AND b.id <> NEW.id;
        RAISE EXCEPTION 'environment is fully booked at that time (capacity %)', env_capacity
            USING ERRCODE = 'exclusion_violation', DETAIL = 'taken by ' || coalesce(holders, '?'),
                  CONSTRAINT = 'environment_booking_capacity';
    END IF;
    RETURN NULL;
END $$;

-- Every environment has its lock row from the start, committed with the environment: otherwise
-- the first confirmations of a new environment would wait for each other's uncommitted insert of
-- that row, overlapping or not.
CREATE FUNCTION environment_lock_row() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    INSERT INTO public.relplan_lock (scope, key) VALUES ('environment', NEW.id) ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION environment_lock_row() FROM PUBLIC;
CREATE TRIGGER environment_lock_row AFTER INSERT ON environment FOR EACH ROW EXECUTE FUNCTION environment_lock_row();
INSERT INTO relplan_lock (scope, key) SELECT 'environment', id FROM environment ON CONFLICT DO NOTHING;

-- 2. relplan_writer: the table-level write privileges, for those who write.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'relplan_writer') THEN
        CREATE ROLE relplan_writer NOLOGIN;
    END IF;
    IF NOT pg_has_role('relplan_admin', 'relplan_writer', 'MEMBER') THEN
        GRANT relplan_writer TO relplan_admin;
    END IF;
END $$;

-- Every table-level privilege but SELECT that relplan_user holds moves to relplan_writer (later
-- migrations that grant relplan_user a table-level write call this after
-- relplan_narrow_write_privileges()). Column-level privileges stay: they lock no table.
CREATE FUNCTION relplan_confine_table_privileges() RETURNS void
    LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    grant_row record;
BEGIN
    FOR grant_row IN
        SELECT c.oid::regclass AS tbl, acl.privilege_type AS privilege
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
        CROSS JOIN LATERAL aclexplode(c.relacl) AS acl
        WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND acl.grantee = 'relplan_user'::regrole
          AND acl.privilege_type <> 'SELECT'
    LOOP
        EXECUTE format('REVOKE %s ON %s FROM relplan_user', grant_row.privilege, grant_row.tbl);
        EXECUTE format('GRANT %s ON %s TO relplan_writer', grant_row.privilege, grant_row.tbl);
    END LOOP;
END $$;
REVOKE ALL ON FUNCTION relplan_confine_table_privileges() FROM PUBLIC;
DO $$ BEGIN PERFORM relplan_narrow_write_privileges(); PERFORM relplan_confine_table_privileges(); END $$;

-- A login holds relplan_writer exactly while it has a membership with a write role. (Role
-- membership is the cluster's: one relplan database per cluster, or distinct logins per database.)
CREATE FUNCTION relplan_sync_writer(who text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    writes boolean;
    holds boolean;
BEGIN
    IF who IS NULL OR NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = who AND r.rolcanlogin) THEN
        RETURN;
    END IF;
    writes := EXISTS (SELECT 1 FROM public.membership m
                      WHERE m.role_name = who AND m.role IN ('member', 'release-manager', 'manager'));
    holds := EXISTS (SELECT 1 FROM pg_auth_members am
                     WHERE am.roleid = 'relplan_writer'::regrole AND am.member = (SELECT r.oid FROM pg_roles r WHERE r.rolname = who));
    IF writes AND NOT holds THEN
        EXECUTE format('GRANT relplan_writer TO %I', who);
    ELSIF holds AND NOT writes THEN
        EXECUTE format('REVOKE relplan_writer FROM %I', who);
    END IF;
END $$;
REVOKE ALL ON FUNCTION relplan_sync_writer(text) FROM PUBLIC;

CREATE FUNCTION membership_syncs_writer() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM relplan_sync_writer(OLD.role_name);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND (TG_OP = 'INSERT' OR NEW.role_name IS DISTINCT FROM OLD.role_name) THEN
        PERFORM relplan_sync_writer(NEW.role_name);
    END IF;
    RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION membership_syncs_writer() FROM PUBLIC;
CREATE TRIGGER membership_syncs_writer AFTER INSERT OR UPDATE OR DELETE ON membership
    FOR EACH ROW EXECUTE FUNCTION membership_syncs_writer();
DO $$ BEGIN PERFORM relplan_sync_writer(m.role_name) FROM (SELECT DISTINCT role_name FROM membership) AS m; END $$;

-- 3. Only relplan's logins connect. Database privileges are not copied by CREATE DATABASE …
--    TEMPLATE, so a copy calls this again (`relplan db migrate` does, every run).
CREATE FUNCTION relplan_restrict_connect() RETURNS void
    LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    EXECUTE format('REVOKE CONNECT, TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
    EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO relplan_user', current_database());
END $$;
REVOKE ALL ON FUNCTION relplan_restrict_connect() FROM PUBLIC;
DO $$ BEGIN PERFORM relplan_restrict_connect(); END $$;
