-- The database sets what it derives and who did what; keys never change; memberships name
-- people; the target registry has owners, bounds and a depth; the lifecycle's one-step rule; import
-- batches recorded by the database (issue 16: findings 1, 2, 7, 13, 14 and the lower two).
--
-- Migrations run as the schema owner, which obeys FORCE ROW LEVEL SECURITY and holds no write
-- policy on the planning tables: the repairs below lift FORCE for their own statements only.

-- 1. Attribution: the acting role (SET ROLE, else the login), also inside SECURITY DEFINER
--    functions, where current_user names the owner.
ALTER TABLE membership ALTER COLUMN added_by SET DEFAULT relplan_acting_role();
ALTER TABLE release_model ALTER COLUMN created_by SET DEFAULT relplan_acting_role();
ALTER TABLE release_plan ALTER COLUMN created_by SET DEFAULT relplan_acting_role();
ALTER TABLE release ALTER COLUMN updated_by SET DEFAULT relplan_acting_role();
ALTER TABLE environment_booking ALTER COLUMN booked_by SET DEFAULT relplan_acting_role();
ALTER TABLE deviation ALTER COLUMN recorded_by SET DEFAULT relplan_acting_role();
ALTER TABLE import_batch ALTER COLUMN imported_by SET DEFAULT relplan_acting_role();
ALTER TABLE schedule_proposal ALTER COLUMN proposed_by SET DEFAULT relplan_acting_role();
ALTER TABLE freeze_override ALTER COLUMN granted_by SET DEFAULT relplan_acting_role();
ALTER TABLE report_run ALTER COLUMN run_by SET DEFAULT relplan_acting_role();

-- 2. The target registry: a target belongs to the group that registered it (NULL: to the
--    admins), who alone with the admins decide its place in the hierarchy.
ALTER TABLE target ADD COLUMN group_id integer REFERENCES management_group ON DELETE SET NULL;
ALTER TABLE target ADD COLUMN registered_by text NOT NULL DEFAULT '(before migration 0010)';
ALTER TABLE target ALTER COLUMN registered_by SET DEFAULT relplan_acting_role();
ALTER TABLE target ADD COLUMN registered_at timestamptz;
ALTER TABLE target ALTER COLUMN registered_at SET DEFAULT now();
-- Existing targets: the group whose units alone name them, else the admins'.
ALTER TABLE target NO FORCE ROW LEVEL SECURITY;
UPDATE target t SET group_id = u.group_id
FROM (SELECT target_code, min(group_id) AS group_id FROM release_unit GROUP BY target_code
      HAVING count(DISTINCT group_id) = 1) AS u
WHERE u.target_code = t.code;
ALTER TABLE target FORCE ROW LEVEL SECURITY;
-- The index its foreign key needs (deleting a target looks up its parts), and the quota's.
CREATE INDEX target_part_of ON target (part_of) WHERE part_of IS NOT NULL;
CREATE INDEX target_registered_by ON target (registered_by);
CREATE INDEX target_group ON target (group_id) WHERE group_id IS NOT NULL;

DROP POLICY anyone_adds ON target;
DROP POLICY planners_link ON target;
CREATE POLICY writers_register ON target FOR INSERT TO relplan_user
    WITH CHECK ((SELECT relplan_is_admin(current_user))
                OR group_id = ANY ((SELECT relplan_groups_with_role(current_user, '{manager,release-manager,member}'))::integer[]));
CREATE POLICY owners_link ON target FOR UPDATE TO relplan_user
    USING ((SELECT relplan_is_admin(current_user))
           OR group_id = ANY ((SELECT relplan_groups_with_role(current_user, '{manager,release-manager}'))::integer[]))
    WITH CHECK ((SELECT relplan_is_admin(current_user))
                OR group_id = ANY ((SELECT relplan_groups_with_role(current_user, '{manager,release-manager}'))::integer[]));
CREATE TRIGGER forbid_group_change BEFORE UPDATE OF group_id ON target FOR EACH ROW
    WHEN (OLD.group_id IS DISTINCT FROM NEW.group_id) EXECUTE FUNCTION forbid_group_change();

-- What one login may register: admins any number, everyone else this many.
CREATE FUNCTION relplan_target_quota() RETURNS integer LANGUAGE sql IMMUTABLE RETURN 50000;

CREATE FUNCTION target_quota() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    who constant text := relplan_acting_role();
    registered bigint;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM new_targets) OR relplan_is_admin(session_user)
       OR (SELECT r.rolsuper FROM pg_roles r WHERE r.rolname = session_user) THEN
        RETURN NULL;
    END IF;
    SELECT count(*) INTO registered FROM public.target t WHERE t.registered_by = who;
    IF registered > relplan_target_quota() THEN
        RAISE EXCEPTION '% has registered % configuration items, more than the % one login may', who, registered, relplan_target_quota()
            USING ERRCODE = 'insufficient_privilege', HINT = 'ask an admin to register them';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER target_quota AFTER INSERT ON target REFERENCING NEW TABLE AS new_targets
    FOR EACH STATEMENT EXECUTE FUNCTION target_quota();

-- 3. The hierarchy: no cycles, at most 32 links from any target to its root. Each ancestor is
--    locked as it is read, so two links that would close a cycle together meet on a lock (one
--    waits, or PostgreSQL reports a deadlock, which the CLI retries) and the second sees the first.
CREATE FUNCTION relplan_target_max_depth() RETURNS integer LANGUAGE sql IMMUTABLE RETURN 32;

CREATE FUNCTION target_hierarchy() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    max_depth constant integer := relplan_target_max_depth();
    cur text := NEW.part_of;
    above integer := 0;
    below integer := 0;
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.part_of IS NOT DISTINCT FROM OLD.part_of THEN
        RETURN NEW;
    END IF;
    WHILE cur IS NOT NULL LOOP
        IF cur = NEW.code THEN
            RAISE EXCEPTION '% is already part of %: linking would make a cycle', NEW.part_of, NEW.code
                USING ERRCODE = 'check_violation', CONSTRAINT = 'target_hierarchy';
        END IF;
        above := above + 1;
        EXIT WHEN above > max_depth;
        SELECT t.part_of INTO cur FROM public.target t WHERE t.code = cur FOR NO KEY UPDATE;
    END LOOP;
    IF TG_OP = 'UPDATE' THEN
        WITH RECURSIVE down(code, depth) AS (
            SELECT t.code, 1 FROM public.target t WHERE t.part_of = NEW.code
            UNION ALL
            SELECT t.code, d.depth + 1 FROM public.target t JOIN down d ON t.part_of = d.code WHERE d.depth <= max_depth)
        SELECT coalesce(max(depth), 0) INTO below FROM down;
    END IF;
    IF above + below > max_depth THEN
        RAISE EXCEPTION 'linking % into % makes a chain of % links; at most % are allowed', NEW.code, NEW.part_of,
              above + below, max_depth
            USING ERRCODE = 'check_violation', CONSTRAINT = 'target_hierarchy';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER target_hierarchy BEFORE INSERT OR UPDATE ON target FOR EACH ROW
    WHEN (NEW.part_of IS NOT NULL) EXECUTE FUNCTION target_hierarchy();
-- The owner locks ancestors from that trigger (a row lock needs an UPDATE policy) and nowhere else.
CREATE POLICY hierarchy_locks ON target FOR UPDATE TO CURRENT_USER USING (pg_trigger_depth() > 0);

-- Existing chains: a link that closes a cycle or goes past the depth is cut (audited).
ALTER TABLE target NO FORCE ROW LEVEL SECURITY;
DO $$
DECLARE
    item record;
    cur text;
    seen text[];
BEGIN
    FOR item IN SELECT code, part_of FROM target WHERE part_of IS NOT NULL ORDER BY code LOOP
        cur := item.part_of;
        seen := ARRAY[item.code];
        WHILE cur IS NOT NULL AND NOT cur = ANY (seen) AND cardinality(seen) <= relplan_target_max_depth() LOOP
            seen := seen || cur;
            SELECT part_of INTO cur FROM target WHERE code = cur;
        END LOOP;
        IF cur IS NOT NULL THEN
            RAISE NOTICE 'target %: its chain closes a cycle or is over % links deep; unlinked from %',
                item.code, relplan_target_max_depth(), item.part_of;
            UPDATE target SET part_of = NULL WHERE code = item.code;
        END IF;
    END LOOP;
END $$;
ALTER TABLE target FORCE ROW LEVEL SECURITY;

-- 4. Memberships name a person's own login: never a role that cannot log in (every login could
--    SET ROLE to a group role such as relplan_user), never relplan's own roles, and nobody names
--    themselves or a role they can become.
CREATE FUNCTION membership_names_a_person() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    acting constant text := relplan_acting_role();
    can_login boolean;
    owner_name name;
BEGIN
    SELECT r.rolcanlogin INTO can_login FROM pg_roles r WHERE r.rolname = NEW.role_name;
    SELECT r.rolname INTO owner_name FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner WHERE c.oid = 'public.membership'::regclass;
    IF NEW.role_name IN ('relplan_user', 'relplan_admin') OR NEW.role_name LIKE 'pg\_%' OR NEW.role_name = owner_name THEN
        RAISE EXCEPTION '% is one of relplan''s own roles, not a person', NEW.role_name
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT coalesce(can_login, false) THEN
        RAISE EXCEPTION '% is not a login: a membership names a person''s own login', NEW.role_name
            USING ERRCODE = 'invalid_parameter_value', HINT = 'relplan user create creates one';
    END IF;
    IF NEW.role_name = session_user OR NEW.role_name = acting
       OR (NOT (SELECT r.rolsuper FROM pg_roles r WHERE r.rolname = session_user)
           AND (pg_has_role(session_user, NEW.role_name, 'MEMBER') OR pg_has_role(acting, NEW.role_name, 'MEMBER'))) THEN
        RAISE EXCEPTION '% may not make %s own membership: nobody adds themselves', session_user,
              CASE WHEN NEW.role_name = session_user THEN 'their' ELSE NEW.role_name || '''' END
            USING ERRCODE = 'insufficient_privilege', HINT = 'ask another manager of the group or an admin';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER membership_names_a_person BEFORE INSERT OR UPDATE ON membership
    FOR EACH ROW EXECUTE FUNCTION membership_names_a_person();
-- Existing memberships of roles that are no person's login go (audited).
ALTER TABLE membership NO FORCE ROW LEVEL SECURITY;
DELETE FROM membership m
WHERE m.role_name IN ('relplan_user', 'relplan_admin') OR m.role_name LIKE 'pg\_%'
   OR NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = m.role_name AND r.rolcanlogin);
ALTER TABLE membership FORCE ROW LEVEL SECURITY;

-- 5. Derived on every write.
-- Row versions: who changed a release, read from the acting role.
CREATE OR REPLACE FUNCTION release_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.row_version := OLD.row_version + 1;
    NEW.updated_at := now();
    NEW.updated_by := public.relplan_acting_role();
    RETURN NEW;
END $$;

-- Exclusivity: a confirmed booking of a capacity-1 environment, on every insert and update that
-- could make it so or unmake it (tentative bookings, what imports write, skip the call).
CREATE OR REPLACE FUNCTION environment_booking_exclusive() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    NEW.exclusive := NEW.status = 'confirmed'
        AND coalesce((SELECT e.capacity = 1 FROM public.environment e WHERE e.id = NEW.environment_id), false);
    RETURN NEW;
END $$;
DROP TRIGGER environment_booking_exclusive ON environment_booking;
CREATE TRIGGER environment_booking_exclusive BEFORE INSERT OR UPDATE ON environment_booking
    FOR EACH ROW WHEN (NEW.status = 'confirmed' OR NEW.exclusive) EXECUTE FUNCTION environment_booking_exclusive();

-- An environment's capacity changed: its confirmed bookings are re-derived, and re-checked
-- against the new capacity (the capacity trigger refuses a capacity below what is booked).
CREATE FUNCTION environment_capacity_changed() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    UPDATE public.environment_booking SET status = status WHERE environment_id = NEW.id AND status = 'confirmed';
    RETURN NULL;
END $$;
CREATE TRIGGER environment_capacity_changed AFTER UPDATE OF capacity ON environment FOR EACH ROW
    WHEN (OLD.capacity IS DISTINCT FROM NEW.capacity) EXECUTE FUNCTION environment_capacity_changed();
CREATE POLICY capacity_rederives ON environment_booking FOR UPDATE TO CURRENT_USER
    USING (pg_trigger_depth() > 0) WITH CHECK (pg_trigger_depth() > 0);

-- Existing bookings: exclusivity as derived now (before 0007 tentative ones carried it too).
ALTER TABLE environment_booking NO FORCE ROW LEVEL SECURITY;
UPDATE environment_booking b SET exclusive = (b.status = 'confirmed' AND e.capacity = 1)
FROM environment e WHERE e.id = b.environment_id AND b.exclusive IS DISTINCT FROM (b.status = 'confirmed' AND e.capacity = 1);
ALTER TABLE environment_booking FORCE ROW LEVEL SECURITY;

-- Handling a deviation: when and by whom follow from its resolution.
CREATE FUNCTION deviation_handled() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF NEW.resolution IS NULL THEN
        NEW.handled_at := NULL;
        NEW.handled_by := NULL;
    ELSIF TG_OP = 'INSERT' OR OLD.resolution IS DISTINCT FROM NEW.resolution THEN
        NEW.handled_at := now();
        NEW.handled_by := public.relplan_acting_role();
    ELSE
        NEW.handled_at := OLD.handled_at;
        NEW.handled_by := OLD.handled_by;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER deviation_handled BEFORE INSERT OR UPDATE ON deviation FOR EACH ROW EXECUTE FUNCTION deviation_handled();

-- Ticking a criterion: checked_at says ticked (any time given becomes now), checked_by who.
CREATE FUNCTION release_criterion_checked() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF NEW.checked_at IS NULL THEN
        NEW.checked_by := NULL;
    ELSIF TG_OP = 'INSERT' OR OLD.checked_at IS DISTINCT FROM NEW.checked_at THEN
        NEW.checked_at := now();
        NEW.checked_by := public.relplan_acting_role();
    ELSE
        NEW.checked_by := OLD.checked_by;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER release_criterion_checked BEFORE INSERT OR UPDATE ON release_criterion
    FOR EACH ROW EXECUTE FUNCTION release_criterion_checked();

-- Deciding a proposal: who and when follow from its status.
CREATE FUNCTION schedule_proposal_decided() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF NEW.status NOT IN ('accepted', 'rejected') THEN
        NEW.decided_by := CASE WHEN TG_OP = 'UPDATE' AND NEW.status = 'superseded' THEN OLD.decided_by END;
        NEW.decided_at := CASE WHEN TG_OP = 'UPDATE' AND NEW.status = 'superseded' THEN OLD.decided_at END;
    ELSIF TG_OP = 'INSERT' OR OLD.status IS DISTINCT FROM NEW.status THEN
        NEW.decided_by := public.relplan_acting_role();
        NEW.decided_at := now();
    ELSE
        NEW.decided_by := OLD.decided_by;
        NEW.decided_at := OLD.decided_at;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER schedule_proposal_decided BEFORE INSERT OR UPDATE ON schedule_proposal
    FOR EACH ROW EXECUTE FUNCTION schedule_proposal_decided();

-- 6. The lifecycle's one-step rule: planned → building → testing → ready → deploying → deployed →
--    evaluating → closed, one step at a time, or cancelled from any open status; a release starts
--    planned; closing needs an evaluation and every deviation handled. The model's exit and entry
--    criteria (some computed from bookings and units) stay with the CLI. Superusers, who bypass
--    every policy anyway, are not held to it (test fixtures and the benchmark seed set states).
CREATE FUNCTION release_lifecycle() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    path constant text[] := ARRAY['planned', 'building', 'testing', 'ready', 'deploying', 'deployed', 'evaluating', 'closed'];
    from_step integer;
BEGIN
    IF (SELECT r.rolsuper FROM pg_roles r WHERE r.rolname = session_user) THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'INSERT' THEN
        RAISE EXCEPTION 'a release starts planned, not %', NEW.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'release_lifecycle';
    END IF;
    IF NEW.status = 'cancelled' AND OLD.status NOT IN ('closed', 'cancelled') THEN
        RETURN NEW;
    END IF;
    from_step := array_position(path, OLD.status);
    IF from_step IS NULL OR from_step = cardinality(path) OR NEW.status <> path[from_step + 1] THEN
        RAISE EXCEPTION 'release % may not go from % to %: one step at a time (%), or cancelled from an open status', NEW.code,
              OLD.status, NEW.status, coalesce(path[from_step + 1], 'none from here')
            USING ERRCODE = 'check_violation', CONSTRAINT = 'release_lifecycle';
    END IF;
    IF NEW.status = 'closed' THEN
        IF coalesce(btrim(NEW.evaluation), '') = '' THEN
            RAISE EXCEPTION 'release % cannot close without an evaluation', NEW.code
                USING ERRCODE = 'check_violation', CONSTRAINT = 'release_lifecycle';
        END IF;
        IF EXISTS (SELECT 1 FROM public.deviation d WHERE d.release_id = NEW.id AND d.resolution IS NULL) THEN
            RAISE EXCEPTION 'release % cannot close while a deviation is not handled', NEW.code
                USING ERRCODE = 'check_violation', CONSTRAINT = 'release_lifecycle';
        END IF;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER release_lifecycle_insert BEFORE INSERT ON release FOR EACH ROW
    WHEN (NEW.status <> 'planned') EXECUTE FUNCTION release_lifecycle();
CREATE TRIGGER release_lifecycle_update BEFORE UPDATE ON release FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION release_lifecycle();

-- 7. Import batches: recorded only through this function, which names the batch's groups itself
--    (those this login wrote plans, releases or their parts in during this transaction, read from
--    the audit trail) and records who and when; the counts are the importer's account of its file.
REVOKE INSERT ON import_batch FROM relplan_user;
DROP POLICY importer_records ON import_batch;
CREATE POLICY recorded_by_function ON import_batch FOR INSERT TO CURRENT_USER WITH CHECK (true);

CREATE FUNCTION relplan_record_import(file_name text, sha256 text, rows integer, created integer, updated integer,
                                      unchanged integer, rejected integer) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    groups integer[];
    batch bigint;
BEGIN
    IF least(rows, created, updated, unchanged, rejected) < 0 THEN
        RAISE EXCEPTION 'an import batch counts rows, not %', least(rows, created, updated, unchanged, rejected)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT coalesce(array_agg(DISTINCT a.group_id ORDER BY a.group_id), '{}') INTO groups
    FROM public.audit_log a
    WHERE a.at = now() AND a.login = session_user AND a.group_id IS NOT NULL
      AND a.table_name IN ('release_plan', 'release', 'release_dependency', 'release_package', 'release_unit', 'environment_booking');
    IF cardinality(groups) = 0 THEN
        RAISE EXCEPTION 'nothing to record: % wrote no plans, releases or their parts in this transaction', session_user
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    INSERT INTO public.import_batch (file_name, sha256, rows, created, updated, unchanged, rejected, group_ids)
    VALUES (file_name, sha256, rows, created, updated, unchanged, rejected, groups)
    RETURNING id INTO batch;
    RETURN batch;
END $$;
REVOKE ALL ON FUNCTION relplan_record_import(text, text, integer, integer, integer, integer, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION relplan_record_import(text, text, integer, integer, integer, integer, integer) TO relplan_user;

-- 8. What the database sets, marked in the catalog: the privileges below, and the security tests,
--    read these comments. A writer names none of these columns.
DO $$
DECLARE
    marked CONSTANT text[][] := ARRAY[
        ['management_group', 'created_at', 'when the group was created'],
        ['membership', 'added_at', 'when the membership was added'],
        ['membership', 'added_by', 'the acting role that added the membership'],
        ['service_window', 'created_at', 'when the window was created'],
        ['target', 'registered_by', 'the acting role that registered the target'],
        ['target', 'registered_at', 'when the target was registered'],
        ['release_model', 'created_at', 'when the model version was stored'],
        ['release_model', 'created_by', 'the acting role that stored the model version'],
        ['release_plan', 'created_at', 'when the plan was created'],
        ['release_plan', 'created_by', 'the acting role that created the plan'],
        ['release', 'row_version', 'bumped by every change (release_touch)'],
        ['release', 'updated_at', 'when the release last changed (release_touch)'],
        ['release', 'updated_by', 'the acting role that last changed the release (release_touch)'],
        ['environment_booking', 'exclusive', 'confirmed and the environment has capacity 1 (environment_booking_exclusive)'],
        ['environment_booking', 'booked_by', 'the acting role that booked'],
        ['release_criterion', 'checked_by', 'the acting role that ticked it (release_criterion_checked)'],
        ['deviation', 'recorded_at', 'when the deviation was recorded'],
        ['deviation', 'recorded_by', 'the acting role that recorded the deviation'],
        ['deviation', 'handled_at', 'when its resolution was written (deviation_handled)'],
        ['deviation', 'handled_by', 'the acting role that wrote its resolution (deviation_handled)'],
        ['import_batch', 'imported_by', 'the acting role that imported (relplan_record_import)'],
        ['import_batch', 'imported_at', 'when the batch was recorded'],
        ['import_batch', 'group_ids', 'the groups the import wrote in (relplan_record_import)'],
        ['schedule_proposal', 'proposed_by', 'the acting role that proposed'],
        ['schedule_proposal', 'proposed_at', 'when the proposal was made'],
        ['schedule_proposal', 'decided_by', 'the acting role that accepted or rejected it (schedule_proposal_decided)'],
        ['schedule_proposal', 'decided_at', 'when it was accepted or rejected (schedule_proposal_decided)'],
        ['freeze_override', 'granted_by', 'the acting role that granted the override'],
        ['freeze_override', 'granted_at', 'when the override was granted'],
        ['report_run', 'run_by', 'the acting role that ran the report'],
        ['report_run', 'finished_at', 'when the run was recorded']];
    i integer;
BEGIN
    FOR i IN 1 .. array_length(marked, 1) LOOP
        EXECUTE format('COMMENT ON COLUMN %I.%I IS %L', marked[i][1], marked[i][2], 'set by the database: ' || marked[i][3]);
    END LOOP;
END $$;

-- 9. Column privileges, from the catalog: every table-level INSERT or UPDATE a relplan role holds
--    becomes the same privilege on the columns a writer may name. Never: identity and generated
--    columns, columns the database sets (marked above); for UPDATE also no primary-key column.
CREATE FUNCTION relplan_writer_columns(tbl regclass, privilege text) RETURNS text[]
    LANGUAGE sql STABLE SET search_path = pg_catalog, public, pg_temp
    RETURN (SELECT coalesce(array_agg(a.attname::text ORDER BY a.attnum), '{}')
            FROM pg_attribute a
            WHERE a.attrelid = tbl AND a.attnum > 0 AND NOT a.attisdropped AND a.attidentity = '' AND a.attgenerated = ''
              AND coalesce(col_description(tbl, a.attnum), '') NOT LIKE 'set by the database:%'
              AND NOT (privilege = 'UPDATE' AND EXISTS (
                  SELECT 1 FROM pg_constraint c WHERE c.conrelid = tbl AND c.contype = 'p' AND a.attnum = ANY (c.conkey))));

CREATE FUNCTION relplan_narrow_write_privileges() RETURNS void
    LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    grant_row record;
    columns text[];
BEGIN
    FOR grant_row IN
        SELECT c.oid::regclass AS tbl, r.rolname AS grantee, acl.privilege_type AS privilege
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
        CROSS JOIN LATERAL aclexplode(c.relacl) AS acl
        JOIN pg_roles r ON r.oid = acl.grantee
        WHERE c.relkind IN ('r', 'p') AND r.rolname IN ('relplan_user', 'relplan_admin')
          AND acl.privilege_type IN ('INSERT', 'UPDATE')
    LOOP
        columns := relplan_writer_columns(grant_row.tbl, grant_row.privilege);
        EXECUTE format('REVOKE %s ON %s FROM %I', grant_row.privilege, grant_row.tbl, grant_row.grantee);
        IF cardinality(columns) > 0 THEN
            EXECUTE format('GRANT %s (%s) ON %s TO %I', grant_row.privilege,
                           (SELECT string_agg(quote_ident(x), ', ') FROM unnest(columns) AS x), grant_row.tbl, grant_row.grantee);
        END IF;
    END LOOP;
END $$;
REVOKE ALL ON FUNCTION relplan_narrow_write_privileges() FROM PUBLIC;
DO $$ BEGIN PERFORM relplan_narrow_write_privileges(); END $$;

-- 10. Keys never change, on every audited table (the audit trail pairs old and new rows by key):
--     the audit trigger's arguments name the key, and the attribution recorded at insert stays.
--     (Named so that it fires before the other BEFORE UPDATE triggers of its table.)
CREATE FUNCTION relplan_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%: % never change% (%)', TG_TABLE_NAME, TG_ARGV[0],
          CASE WHEN TG_ARGV[1] = 'key' THEN ': delete the row and insert another' ELSE ': the database sets them' END, TG_ARGV[2]
        USING ERRCODE = 'insufficient_privilege';
END $$;

DO $$
DECLARE
    fixed CONSTANT text[][] := ARRAY[
        ['management_group', 'created_at'], ['membership', 'added_at,added_by'], ['service_window', 'created_at'],
        ['target', 'registered_by,registered_at'], ['release_model', 'created_at,created_by'],
        ['release_plan', 'created_at,created_by'], ['environment_booking', 'booked_by'],
        ['deviation', 'recorded_at,recorded_by'], ['import_batch', 'imported_by,imported_at,group_ids'],
        ['schedule_proposal', 'proposed_by,proposed_at'], ['freeze_override', 'granted_by,granted_at']];
    audited record;
    keys text[];
    i integer;
    cols text[];
BEGIN
    FOR audited IN
        SELECT t.tgrelid::regclass AS tbl, c.relname, t.tgargs FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
        WHERE t.tgname = 'audit_update' ORDER BY c.relname
    LOOP
        keys := array_remove(string_to_array(encode(audited.tgargs, 'escape'), '\000'), '');
        EXECUTE format('CREATE TRIGGER keys_fixed BEFORE UPDATE ON %s FOR EACH ROW '
                       'WHEN (ROW(%s) IS DISTINCT FROM ROW(%s)) EXECUTE FUNCTION relplan_refuse_change(%L, %L, %L)',
                       audited.tbl,
                       (SELECT string_agg('OLD.' || quote_ident(k), ', ') FROM unnest(keys) AS k),
                       (SELECT string_agg('NEW.' || quote_ident(k), ', ') FROM unnest(keys) AS k),
                       'keys', 'key', array_to_string(keys, ', '));
    END LOOP;
    FOR i IN 1 .. array_length(fixed, 1) LOOP
        cols := string_to_array(fixed[i][2], ',');
        EXECUTE format('CREATE TRIGGER relplan_attribution_fixed BEFORE UPDATE ON %I FOR EACH ROW '
                       'WHEN (ROW(%s) IS DISTINCT FROM ROW(%s)) EXECUTE FUNCTION relplan_refuse_change(%L, %L, %L)',
                       fixed[i][1],
                       (SELECT string_agg('OLD.' || quote_ident(k), ', ') FROM unnest(cols) AS k),
                       (SELECT string_agg('NEW.' || quote_ident(k), ', ') FROM unnest(cols) AS k),
                       'who and when of the insert', 'attribution', array_to_string(cols, ', '));
    END LOOP;
END $$;
