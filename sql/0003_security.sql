-- Ownership lives in the database (DESIGN.md §3).
-- Everyone with relplan_user reads the whole calendar; only the owning group's manager and
-- release-manager write its plans, releases, bookings and schedule decisions; members edit the
-- content of releases not yet deployed; admins (relplan_admin) run groups, people, windows,
-- freezes, environments and shared models. FORCE ROW LEVEL SECURITY: the table owner obeys too
-- (superusers never do, so policy tests connect as ordinary logins).

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'relplan_user') THEN
        CREATE ROLE relplan_user NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'relplan_admin') THEN
        CREATE ROLE relplan_admin NOLOGIN;
    END IF;
    IF NOT pg_has_role('relplan_admin', 'relplan_user', 'MEMBER') THEN
        GRANT relplan_user TO relplan_admin;
    END IF;
    EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO relplan_user', current_database());
END $$;

REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC;
-- Nobody but the owner creates objects here: a view or function of their own in public could be
-- mistaken for ours (PostgreSQL 15 no longer grants this; older servers still do).
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO relplan_user;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO relplan_user;

-- Policy helpers: SECURITY DEFINER so they read membership whatever the caller may read, with a
-- fixed search_path so nobody can hijack them with look-alike objects. pg_temp goes last, named:
-- left out, it is searched FIRST for tables, and every user may create temporary tables (the
-- importer needs them), so a temporary `environment` or `audit_log` would shadow ours.

-- The groups in which `who` holds one of `roles`. Policies call it as a scalar sub-select, so it
-- runs once per statement, not once per row: bulk imports pay nothing for it.
CREATE FUNCTION relplan_groups_with_role(who name, roles text[]) RETURNS integer[]
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
    RETURN (SELECT coalesce(array_agg(m.group_id), '{}') FROM public.membership m
            WHERE m.role_name = who AND m.role = ANY (roles));

CREATE FUNCTION relplan_is_admin(who name) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
    RETURN pg_has_role(who, 'relplan_admin', 'MEMBER');

-- Whether a release's content may still change by members: not yet deployed.
CREATE FUNCTION relplan_release_open(release bigint) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
    RETURN (SELECT r.status IN ('planned', 'building', 'testing', 'ready') FROM public.release r WHERE r.id = release);

REVOKE ALL ON FUNCTION relplan_groups_with_role(name, text[]), relplan_is_admin(name), relplan_release_open(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION relplan_groups_with_role(name, text[]), relplan_is_admin(name), relplan_release_open(bigint) TO relplan_user;

-- Rows never change groups: the group is part of their identity.
CREATE FUNCTION forbid_group_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% rows cannot move to another group', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END $$;

-- Admin-managed reference data.
GRANT INSERT, UPDATE, DELETE ON management_group, environment, service_window, change_freeze, freeze_override
    TO relplan_admin;
-- Group-owned and shared data: privileges here, narrowed row by row by the policies below.
GRANT INSERT, UPDATE, DELETE ON membership, target, release_model, release_plan, plan_stakeholder, release,
    release_dependency, release_package, release_unit, environment_booking, release_criterion, deviation,
    schedule_proposal TO relplan_user;
GRANT INSERT ON import_batch TO relplan_user;

DO $$
DECLARE
    tbl text;
BEGIN
    FOREACH tbl IN ARRAY ARRAY['management_group', 'membership', 'environment', 'service_window', 'change_freeze',
        'target', 'release_model', 'release_plan', 'plan_stakeholder', 'release', 'release_dependency',
        'release_package', 'release_unit', 'environment_booking', 'release_criterion', 'deviation', 'import_batch',
        'schedule_proposal', 'freeze_override', 'audit_log']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', tbl);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', tbl);
        -- One shared calendar: everyone reads everything. The owner (who runs the migrations) too:
        -- FORCE applies to it, and the SECURITY DEFINER helpers above read membership and release
        -- as the owner; a non-superuser owner would otherwise see no rows and every write would fail.
        EXECUTE format('CREATE POLICY read_all ON %I FOR SELECT TO relplan_user, CURRENT_USER USING (true)', tbl);
    END LOOP;
    FOREACH tbl IN ARRAY ARRAY['membership', 'release_model', 'release_plan', 'plan_stakeholder', 'release',
        'release_dependency', 'release_package', 'release_unit', 'environment_booking', 'release_criterion',
        'deviation', 'schedule_proposal']
    LOOP
        EXECUTE format('CREATE TRIGGER forbid_group_change BEFORE UPDATE OF group_id ON %I FOR EACH ROW '
                       'WHEN (OLD.group_id IS DISTINCT FROM NEW.group_id) EXECUTE FUNCTION forbid_group_change()', tbl);
    END LOOP;
    -- Admin-managed tables.
    FOREACH tbl IN ARRAY ARRAY['management_group', 'environment', 'service_window', 'change_freeze', 'freeze_override']
    LOOP
        EXECUTE format('CREATE POLICY admin_write ON %I FOR ALL TO relplan_admin '
                       'USING ((SELECT relplan_is_admin(current_user))) WITH CHECK ((SELECT relplan_is_admin(current_user)))', tbl);
    END LOOP;
    -- Planning data: the owning group's manager and release-manager.
    FOREACH tbl IN ARRAY ARRAY['release_plan', 'plan_stakeholder', 'release', 'release_dependency', 'environment_booking']
    LOOP
        EXECUTE format('CREATE POLICY planners_write ON %I FOR ALL TO relplan_user '
                       'USING (group_id = ANY ((SELECT relplan_groups_with_role(current_user, ''{manager,release-manager}''))::integer[])) '
                       'WITH CHECK (group_id = ANY ((SELECT relplan_groups_with_role(current_user, ''{manager,release-manager}''))::integer[]))', tbl);
    END LOOP;
    -- Release content: planners, and members while the release is not yet deployed.
    FOREACH tbl IN ARRAY ARRAY['release_package', 'release_unit', 'release_criterion', 'deviation']
    LOOP
        EXECUTE format('CREATE POLICY content_write ON %I FOR ALL TO relplan_user '
                       'USING (group_id = ANY ((SELECT relplan_groups_with_role(current_user, ''{manager,release-manager}''))::integer[]) '
                       '       OR (group_id = ANY ((SELECT relplan_groups_with_role(current_user, ''{member}''))::integer[]) AND relplan_release_open(%s))) '
                       'WITH CHECK (group_id = ANY ((SELECT relplan_groups_with_role(current_user, ''{manager,release-manager}''))::integer[]) '
                       '       OR (group_id = ANY ((SELECT relplan_groups_with_role(current_user, ''{member}''))::integer[]) AND relplan_release_open(%s)))',
                       tbl,
                       CASE tbl WHEN 'release_unit' THEN '(SELECT p.release_id FROM release_package p WHERE p.id = package_id)' ELSE 'release_id' END,
                       CASE tbl WHEN 'release_unit' THEN '(SELECT p.release_id FROM release_package p WHERE p.id = package_id)' ELSE 'release_id' END);
    END LOOP;
END $$;

-- Membership: admins for any group; a manager for their own group only.
CREATE POLICY managers_write ON membership FOR ALL TO relplan_user
    USING ((SELECT relplan_is_admin(current_user)) OR group_id = ANY ((SELECT relplan_groups_with_role(current_user, '{manager}'))::integer[]))
    WITH CHECK ((SELECT relplan_is_admin(current_user)) OR group_id = ANY ((SELECT relplan_groups_with_role(current_user, '{manager}'))::integer[]));

-- Configuration items are shared: anyone may name a new one (units refer to them); linking one
-- into another is for admins and the planners of any group.
CREATE POLICY anyone_adds ON target FOR INSERT TO relplan_user WITH CHECK (true);
CREATE POLICY planners_link ON target FOR UPDATE TO relplan_user
    USING ((SELECT relplan_is_admin(current_user)) OR cardinality((SELECT relplan_groups_with_role(current_user, '{manager,release-manager}'))) > 0)
    WITH CHECK ((SELECT relplan_is_admin(current_user)) OR cardinality((SELECT relplan_groups_with_role(current_user, '{manager,release-manager}'))) > 0);
CREATE POLICY admins_delete ON target FOR DELETE TO relplan_admin USING ((SELECT relplan_is_admin(current_user)));

-- Models: shared ones (no group) by admins; a group's own by its planners. Versions are immutable.
CREATE POLICY models_add ON release_model FOR INSERT TO relplan_user
    WITH CHECK (CASE WHEN group_id IS NULL THEN (SELECT relplan_is_admin(current_user))
                     ELSE group_id = ANY ((SELECT relplan_groups_with_role(current_user, '{manager,release-manager}'))::integer[]) END);

-- Proposals: anyone who plans for some group may propose a move to any group (that is how the
-- scheduler hands a move to its owner); only the owning group decides on it.
-- A proposal for another group arrives undecided: deciding is the owner's act, so nobody records
-- an `accepted` proposal in another group's name.
CREATE POLICY planners_propose ON schedule_proposal FOR INSERT TO relplan_user
    WITH CHECK (proposed_by = current_user
                AND cardinality((SELECT relplan_groups_with_role(current_user, '{manager,release-manager}'))) > 0
                AND ((status = 'pending' AND decided_by IS NULL AND decided_at IS NULL AND decision_reason IS NULL)
                     OR group_id = ANY ((SELECT relplan_groups_with_role(current_user, '{manager,release-manager}'))::integer[])));
CREATE POLICY owners_decide ON schedule_proposal FOR UPDATE TO relplan_user
    USING (group_id = ANY ((SELECT relplan_groups_with_role(current_user, '{manager,release-manager}'))::integer[]))
    WITH CHECK (group_id = ANY ((SELECT relplan_groups_with_role(current_user, '{manager,release-manager}'))::integer[]));

-- An import batch is recorded by someone who writes in every group it touched; a login that writes
-- nowhere (a viewer, no membership) records nothing, not even an empty batch.
CREATE POLICY importer_records ON import_batch FOR INSERT TO relplan_user
    WITH CHECK (imported_by = current_user
                AND group_ids <@ (SELECT relplan_groups_with_role(current_user, '{manager,release-manager,member}'))
                AND cardinality((SELECT relplan_groups_with_role(current_user, '{manager,release-manager,member}'))) > 0);

-- The audit trail: rows come only from the audit triggers, in the name of who made the change.
-- Users hold no INSERT on audit_log at all: a policy such as `pg_trigger_depth() > 0` let anyone
-- forge rows from a trigger of their own on a temporary table. Instead the audit trigger runs as
-- the owner (SECURITY DEFINER), with a pinned search_path (a temporary `audit_log` used to swallow
-- the trail), and nobody else may attach it to a table (EXECUTE revoked: firing needs none).
-- Inside it current_user names the owner, so the acting role is read from SET ROLE: the role the
-- session acts as, else its login.
CREATE FUNCTION relplan_acting_role() RETURNS text
    LANGUAGE sql STABLE
    RETURN coalesce(nullif(pg_catalog.current_setting('role'), 'none'), session_user);
ALTER TABLE audit_log ALTER COLUMN acting_role SET DEFAULT relplan_acting_role();
ALTER FUNCTION audit_statement() SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp;
REVOKE ALL ON FUNCTION audit_statement() FROM PUBLIC;
-- The owner obeys FORCE ROW LEVEL SECURITY too; it appends from the trigger and nowhere else.
CREATE POLICY audit_triggers_append ON audit_log FOR INSERT TO CURRENT_USER WITH CHECK (pg_trigger_depth() > 0);

-- `relplan user create`: creating login roles needs CREATEROLE, which admins do not have; this
-- function, owned by the schema owner and executable by admins only, does that one thing.
CREATE FUNCTION relplan_create_user(login name, password text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF login !~ '^[a-z_][a-z0-9_.-]{0,62}$' THEN
        RAISE EXCEPTION 'invalid login name "%": use lower-case letters, digits, _ . -', login USING ERRCODE = 'invalid_name';
    END IF;
    IF login LIKE 'pg\_%' OR login IN ('relplan_user', 'relplan_admin') THEN
        RAISE EXCEPTION 'the login name "%" is reserved', login USING ERRCODE = 'reserved_name';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = login) THEN
        EXECUTE format('GRANT relplan_user TO %I', login);
    ELSIF password IS NULL THEN
        EXECUTE format('CREATE ROLE %I LOGIN IN ROLE relplan_user', login);
    ELSE
        EXECUTE format('CREATE ROLE %I LOGIN PASSWORD %L IN ROLE relplan_user', login, password);
    END IF;
END $$;
REVOKE ALL ON FUNCTION relplan_create_user(name, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION relplan_create_user(name, text) TO relplan_admin;

-- Making someone an admin is an admin's act too.
CREATE FUNCTION relplan_grant_admin(login name) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    EXECUTE format('GRANT relplan_admin TO %I', login);
END $$;
REVOKE ALL ON FUNCTION relplan_grant_admin(name) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION relplan_grant_admin(name) TO relplan_admin;
