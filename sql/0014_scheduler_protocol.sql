-- A plan is a set of moves with an order, carried out across groups by the database itself.
--
-- Nobody writes schedule_proposal directly any more (a forged row's text said one thing while its
-- stored fields moved a release into a freeze): moves are stored by relplan_store_plan() from
-- structured fields, the text shown is derived from those fields, and every carry-out re-checks
-- every hard rule against the portfolio as it is at that moment (status, pinned, freeze, capacity,
-- deadline, dependencies, taken environments, the past).
--
-- Statuses: pending (the owning group decides), approved (the owner agreed; it waits on the moves
-- listed in waits_on and is carried out by the acceptance that completes them), accepted (carried
-- out), rejected, superseded (a newer plan moves the release), withdrawn (a move it waited on was
-- rejected, superseded or could no longer be carried out: decision_reason says which), stale (the
-- release changed since the move was computed).
--
-- The scheduler's writes are serialised by a row lock on scheduler_lock, which only these
-- functions may take (nobody holds a privilege on the table): pg_advisory_lock(7217) could be
-- taken by any login on the cluster and hung every apply and accept.

ALTER TABLE schedule_proposal DROP CONSTRAINT IF EXISTS schedule_proposal_action_check;
ALTER TABLE schedule_proposal ADD CONSTRAINT schedule_proposal_action_check
    CHECK (action IN ('move-window', 'shift-booking', 'retime'));
ALTER TABLE schedule_proposal DROP CONSTRAINT IF EXISTS schedule_proposal_status_check;
ALTER TABLE schedule_proposal ADD CONSTRAINT schedule_proposal_status_check
    CHECK (status IN ('pending', 'approved', 'accepted', 'rejected', 'superseded', 'withdrawn', 'stale'));
ALTER TABLE schedule_proposal ADD COLUMN IF NOT EXISTS plan_id bigint;
ALTER TABLE schedule_proposal ADD COLUMN IF NOT EXISTS waits_on bigint[] NOT NULL DEFAULT '{}';
ALTER TABLE schedule_proposal ADD COLUMN IF NOT EXISTS approved_by text;
-- A login, as 0013 limits the other attribution columns.
ALTER TABLE schedule_proposal ADD CONSTRAINT schedule_proposal_approved_by_text CHECK (char_length(approved_by) <= 64);
COMMENT ON COLUMN schedule_proposal.approved_by IS 'set by the database: the acting role that approved a move that waits (relplan_decide)';
COMMENT ON COLUMN schedule_proposal.plan_id IS 'set by the database: the plan the proposal belongs to (relplan_store_plan)';
COMMENT ON COLUMN schedule_proposal.waits_on IS 'set by the database: the moves of its plan it waits on (relplan_store_plan, relplan_decide)';
-- Who decided and when still follow from the status (0010's trigger), now for every decision of
-- the protocol: approved, accepted, rejected, withdrawn, stale, superseded. A waiting move carried
-- out later by another group's acceptance stays decided by the one who approved it.
CREATE OR REPLACE FUNCTION schedule_proposal_decided() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.status IS NOT DISTINCT FROM NEW.status THEN
        NEW.decided_by := OLD.decided_by;
        NEW.decided_at := OLD.decided_at;
        NEW.approved_by := OLD.approved_by;
    ELSIF NEW.status = 'pending' THEN
        NEW.decided_by := NULL;
        NEW.decided_at := NULL;
        NEW.approved_by := NULL;
    ELSE
        NEW.approved_by := CASE WHEN NEW.status = 'approved' THEN public.relplan_acting_role()
                                WHEN TG_OP = 'UPDATE' THEN OLD.approved_by END;
        NEW.decided_by := CASE WHEN NEW.status = 'accepted' THEN coalesce(NEW.approved_by, public.relplan_acting_role())
                               ELSE public.relplan_acting_role() END;
        NEW.decided_at := now();
    END IF;
    RETURN NEW;
END $$;
COMMENT ON COLUMN schedule_proposal.decided_by IS 'set by the database: the acting role that decided it, or approved it if it waited (schedule_proposal_decided)';
COMMENT ON COLUMN schedule_proposal.decided_at IS 'set by the database: when it was decided (schedule_proposal_decided)';

CREATE INDEX IF NOT EXISTS schedule_proposal_open ON schedule_proposal (plan_id) WHERE status IN ('pending', 'approved');

-- People read proposals; only the functions below write them.
REVOKE INSERT, UPDATE, DELETE ON schedule_proposal FROM relplan_user, relplan_admin, PUBLIC;
DROP POLICY IF EXISTS planners_propose ON schedule_proposal;
DROP POLICY IF EXISTS owners_decide ON schedule_proposal;
-- The functions run as the owner, which FORCE ROW LEVEL SECURITY binds too.
CREATE POLICY scheduler_functions ON schedule_proposal FOR ALL TO CURRENT_USER USING (true) WITH CHECK (true);
CREATE POLICY scheduler_moves ON release FOR UPDATE TO CURRENT_USER USING (true) WITH CHECK (true);
CREATE POLICY scheduler_moves ON environment_booking FOR UPDATE TO CURRENT_USER USING (true) WITH CHECK (true);

CREATE SEQUENCE IF NOT EXISTS schedule_plan_seq;

CREATE TABLE scheduler_lock (
    id integer PRIMARY KEY CHECK (id = 1)
);
INSERT INTO scheduler_lock VALUES (1);
REVOKE ALL ON scheduler_lock FROM PUBLIC;

-- Takes the scheduler's lock for the rest of the transaction, waiting at most
-- relplan.scheduler_lock_timeout (default 10 s); then it fails with 55P03 and the caller asks
-- relplan_scheduler_holder() who holds it. (No exception block here: the lock must belong to the
-- top transaction, whose id pg_stat_activity shows, not to a subtransaction.)
CREATE FUNCTION relplan_lock_scheduler() RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    wait text := coalesce(nullif(current_setting('relplan.scheduler_lock_timeout', true), ''), '10s');
    before text := current_setting('lock_timeout');
BEGIN
    IF cardinality(relplan_groups_with_role(session_user, '{manager,release-manager}')) = 0 THEN
        RAISE EXCEPTION 'only a manager or release-manager applies or decides scheduler moves' USING ERRCODE = 'insufficient_privilege';
    END IF;
    PERFORM set_config('lock_timeout', wait, true);
    PERFORM 1 FROM public.scheduler_lock WHERE id = 1 FOR UPDATE;
    PERFORM set_config('lock_timeout', before, true);
END $$;

-- Who holds the scheduler's lock now: "login (pid N, since T)", or NULL.
CREATE FUNCTION relplan_scheduler_holder() RETURNS text
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
    RETURN (SELECT string_agg(a.usename || ' (pid ' || a.pid || ', in a transaction since '
                              || to_char(a.xact_start AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || 'Z)', ', ')
              FROM pg_stat_activity a, public.scheduler_lock l
             WHERE l.id = 1 AND a.backend_xid = l.xmax AND a.pid <> pg_backend_pid());

-- The text a move shows is derived from what it does.
CREATE FUNCTION relplan_range_text(r tstzrange) RETURNS text
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, public, pg_temp
    RETURN to_char(lower(r) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || '/' ||
           to_char(upper(r) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"');

-- The first hard rule release `rel` breaks as it is now, or NULL. `deploy_moved`/`window_moved`
-- say what the move changed, `bookings` which bookings it moved: rules about the past and freezes
-- apply only to what changed (a release already in a freeze is a conflict, not something a move
-- that leaves it there breaks).
CREATE FUNCTION relplan_move_violation(rel bigint, window_moved boolean, deploy_moved boolean, bookings bigint[], zone text)
    RETURNS text LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    r record;
    found text;
BEGIN
    SELECT x.*, g.code || '/' || x.code AS ref INTO r FROM release x JOIN management_group g ON g.id = x.group_id WHERE x.id = rel;
    IF r.status NOT IN ('planned', 'building', 'testing', 'ready') THEN
        RETURN r.ref || ' is ' || r.status || ': it no longer moves';
    END IF;
    IF r.pinned THEN RETURN r.ref || ' is pinned'; END IF;
    IF window_moved AND r.window_id IS NOT NULL THEN
        SELECT 'service window ' || w.code || ' (capacity ' || w.capacity || ') is full: taken by ' ||
               string_agg(g.code || '/' || x.code, ', ' ORDER BY g.code, x.code)
          INTO found
          FROM service_window w JOIN release x ON x.window_id = w.id AND x.status NOT IN ('cancelled', 'closed')
          JOIN management_group g ON g.id = x.group_id
         WHERE w.id = r.window_id GROUP BY w.code, w.capacity HAVING count(*) > w.capacity;
        IF found IS NOT NULL THEN RETURN found; END IF;
    END IF;
    IF deploy_moved AND r.deploy_start IS NOT NULL THEN
        IF r.deploy_start < now() THEN RETURN r.ref || ' would deploy in the past'; END IF;
        IF r.deadline IS NOT NULL AND r.deploy_end > ((r.deadline + 1)::timestamp AT TIME ZONE zone) THEN
            RETURN r.ref || ' would finish after its deadline ' || r.deadline;
        END IF;
        SELECT 'the deployment of ' || r.ref || ' would overlap freeze ' || f.code INTO found
          FROM change_freeze f
         WHERE f.environment_id IS NULL AND tstzrange(f.starts_at, f.ends_at) && tstzrange(r.deploy_start, r.deploy_end)
           AND NOT EXISTS (SELECT 1 FROM freeze_override o WHERE o.freeze_id = f.id AND o.release_id = rel)
         ORDER BY f.starts_at LIMIT 1;
        IF found IS NOT NULL THEN RETURN found; END IF;
        SELECT r.ref || ' would start before ' || g.code || '/' || d.code || ', which it depends on, has finished' INTO found
          FROM release_dependency rd JOIN release d ON d.id = rd.depends_on_id JOIN management_group g ON g.id = d.group_id
         WHERE rd.release_id = rel AND d.status NOT IN ('cancelled', 'closed') AND d.deploy_end > r.deploy_start
         ORDER BY g.code, d.code LIMIT 1;
        IF found IS NOT NULL THEN RETURN found; END IF;
        SELECT r.ref || ' would finish after ' || g.code || '/' || s.code || ', which depends on it, starts' INTO found
          FROM release_dependency rd JOIN release s ON s.id = rd.release_id JOIN management_group g ON g.id = s.group_id
         WHERE rd.depends_on_id = rel AND s.status NOT IN ('cancelled', 'closed') AND s.deploy_start < r.deploy_end
         ORDER BY g.code, s.code LIMIT 1;
        IF found IS NOT NULL THEN RETURN found; END IF;
    END IF;
    SELECT CASE WHEN lower(b.during) < now() THEN 'a booking of ' || r.ref || ' on ' || e.code || ' would start in the past'
                ELSE 'a booking of ' || r.ref || ' on ' || e.code || ' would overlap freeze ' || f.code END INTO found
      FROM environment_booking b JOIN environment e ON e.id = b.environment_id
      LEFT JOIN change_freeze f ON f.environment_id = b.environment_id AND tstzrange(f.starts_at, f.ends_at) && b.during
           AND NOT EXISTS (SELECT 1 FROM freeze_override o WHERE o.freeze_id = f.id AND o.release_id = rel)
     WHERE b.id = ANY (bookings) AND b.release_id = rel AND (lower(b.during) < now() OR f.id IS NOT NULL)
     ORDER BY lower(b.during) LIMIT 1;
    IF found IS NOT NULL THEN RETURN found; END IF;
    -- Taken environments: a confirmed booking moved onto an environment already at capacity then.
    SELECT 'environment ' || e.code || ' (capacity ' || e.capacity || ') is taken then by ' ||
           string_agg(DISTINCT g.code || '/' || x.code, ', ') INTO found
      FROM environment_booking b JOIN environment e ON e.id = b.environment_id
      JOIN environment_booking o ON o.environment_id = b.environment_id AND o.release_id <> b.release_id AND o.status = 'confirmed' AND o.during && b.during
      JOIN release x ON x.id = o.release_id JOIN management_group g ON g.id = x.group_id
     WHERE b.id = ANY (bookings) AND b.release_id = rel AND b.status = 'confirmed'
     GROUP BY b.id, e.code, e.capacity HAVING count(*) >= e.capacity LIMIT 1;
    RETURN found;
END $$;

-- Withdraws every open move that waits, directly or not, on one of `ids`, saying why.
CREATE FUNCTION relplan_withdraw_dependents(ids bigint[], why text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    next bigint[] := ids;
BEGIN
    LOOP
        WITH w AS (
            UPDATE schedule_proposal p SET status = 'withdrawn', decided_at = now(),
                   decision_reason = 'withdrawn: ' || why
             WHERE p.status IN ('pending', 'approved') AND p.waits_on && next
            RETURNING p.id)
        SELECT array_agg(id) INTO next FROM w;
        EXIT WHEN next IS NULL;
    END LOOP;
END $$;

-- Withdraws open moves among `ids` (and, in turn, what they waited on) that no open move needs
-- any more: they were stored only to make room for a move that was rejected or withdrawn.
CREATE FUNCTION relplan_withdraw_unneeded(ids bigint[], why text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    next bigint[] := ids;
BEGIN
    LOOP
        WITH w AS (
            UPDATE schedule_proposal p SET status = 'withdrawn', decided_at = now(),
                   decision_reason = 'withdrawn: no longer needed (' || why || ')'
             WHERE p.id = ANY (next) AND p.status IN ('pending', 'approved')
               AND NOT EXISTS (SELECT 1 FROM schedule_proposal q WHERE p.id = ANY (q.waits_on) AND q.status IN ('pending', 'approved'))
            RETURNING p.waits_on)
        SELECT array_agg(DISTINCT x) INTO next FROM w, unnest(w.waits_on) x;
        EXIT WHEN next IS NULL;
    END LOOP;
END $$;

-- Carries out one stored move: the release and its bookings move as the move's fields say, then
-- every hard rule is checked. Returns NULL, or the rule broken (then nothing of it was kept).
CREATE FUNCTION relplan_carry_out(move bigint, zone text) RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    m record;
    r record;
    b record;
    broken text;
    moved bigint[] := '{}';
    later boolean;
    gone bigint[];
BEGIN
    SELECT * INTO m FROM schedule_proposal WHERE id = move;
    SELECT x.*, g.code || '/' || x.code AS ref INTO r FROM release x JOIN management_group g ON g.id = x.group_id WHERE x.id = m.release_id;
    IF r.row_version <> m.release_version THEN
        RETURN r.ref || ' changed since the move was computed (version ' || m.release_version || ', now ' || r.row_version || ')';
    END IF;
    broken := relplan_move_violation(m.release_id, false, false, '{}', zone);
    IF broken IS NOT NULL THEN RETURN broken; END IF;
    BEGIN
        IF m.new_window_id IS DISTINCT FROM r.window_id OR m.new_deploy IS DISTINCT FROM tstzrange(r.deploy_start, r.deploy_end) THEN
            UPDATE release SET window_id = coalesce(m.new_window_id, r.window_id),
                               deploy_start = coalesce(lower(m.new_deploy), r.deploy_start),
                               deploy_end = coalesce(upper(m.new_deploy), r.deploy_end)
             WHERE id = m.release_id;
        END IF;
        -- All of a release's bookings shift one way: move the last first when later, so none
        -- collides with a sibling that has yet to move.
        later := coalesce((SELECT (x->>'start')::timestamptz > (x->>'from_start')::timestamptz FROM jsonb_array_elements(m.booking_moves) x LIMIT 1), true);
        FOR b IN SELECT (x->>'booking')::bigint AS id, tstzrange((x->>'start')::timestamptz, (x->>'end')::timestamptz) AS during,
                        (x->>'from_start')::timestamptz AS from_start
                   FROM jsonb_array_elements(m.booking_moves) x
                  ORDER BY CASE WHEN later THEN -extract(epoch FROM (x->>'from_start')::timestamptz) ELSE extract(epoch FROM (x->>'from_start')::timestamptz) END
        LOOP
            UPDATE environment_booking SET during = b.during WHERE id = b.id AND release_id = m.release_id;
            moved := moved || b.id;
        END LOOP;
        broken := relplan_move_violation(m.release_id, m.new_window_id IS DISTINCT FROM r.window_id,
                                         m.new_deploy IS DISTINCT FROM tstzrange(r.deploy_start, r.deploy_end), moved, zone);
        IF broken IS NOT NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'RP001', MESSAGE = broken;
        END IF;
    EXCEPTION
        WHEN SQLSTATE 'RP001' THEN RETURN SQLERRM;
        WHEN exclusion_violation OR check_violation THEN
            RETURN 'an environment booking of ' || r.ref || ' is taken then (' || SQLERRM || ')';
    END;
    UPDATE schedule_proposal SET status = 'accepted', decided_at = now(),
           decided_by = coalesce(decided_by, session_user::text)
     WHERE id = move;
    -- Other moves of the same plan for this release keep pace with its new version; older plans lapse.
    UPDATE schedule_proposal SET release_version = (SELECT row_version FROM release WHERE id = m.release_id)
     WHERE release_id = m.release_id AND plan_id = m.plan_id AND status IN ('pending', 'approved');
    WITH s AS (
        UPDATE schedule_proposal SET status = 'superseded', decided_at = now(),
               decision_reason = 'superseded: move ' || move || ' moved ' || r.ref || ' first'
         WHERE release_id = m.release_id AND plan_id IS DISTINCT FROM m.plan_id AND status IN ('pending', 'approved')
        RETURNING id)
    SELECT array_agg(s.id) INTO gone FROM s;
    IF gone IS NOT NULL THEN PERFORM relplan_withdraw_dependents(gone, 'a move it waited on was superseded by move ' || move); END IF;
    RETURN NULL;
END $$;

-- Carries out every approved move whose prerequisites are all carried out (one at a time, lowest
-- id first), then any set of approved moves that wait only on each other (a swap), together.
-- A move that no longer keeps the rules is withdrawn with the reason, and so is whatever waited on it.
CREATE FUNCTION relplan_cascade(zone text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    ready bigint;
    block bigint[];
    broken text;
    one_less bigint[];
BEGIN
    LOOP
        -- Moves whose prerequisite failed for good are withdrawn first.
        PERFORM relplan_withdraw_dependents(array_agg(id), 'a move it waited on is ' || min(status))
           FROM schedule_proposal WHERE status IN ('rejected', 'superseded', 'withdrawn', 'stale') AND plan_id IS NOT NULL
            AND id IN (SELECT unnest(waits_on) FROM schedule_proposal WHERE status IN ('pending', 'approved'))
         HAVING count(*) > 0;
        SELECT p.id INTO ready FROM schedule_proposal p
         WHERE p.status = 'approved'
           AND NOT EXISTS (SELECT 1 FROM schedule_proposal q WHERE q.id = ANY (p.waits_on) AND q.status <> 'accepted')
         ORDER BY p.id LIMIT 1;
        IF ready IS NOT NULL THEN
            broken := relplan_carry_out(ready, zone);
            IF broken IS NOT NULL THEN
                UPDATE schedule_proposal SET status = 'withdrawn', decided_at = now(), decision_reason = 'withdrawn: ' || broken WHERE id = ready;
                PERFORM relplan_withdraw_dependents(ARRAY[ready], 'move ' || ready || ' could not be carried out: ' || broken);
            END IF;
            CONTINUE;
        END IF;
        -- Approved moves waiting only on approved or carried-out moves (a swap): carried out together.
        -- Start from every approved move whose prerequisites are all approved or done, then drop any
        -- that waits on an approved move outside the set, until nothing changes.
        SELECT array_agg(p.id ORDER BY p.id) INTO block FROM schedule_proposal p
         WHERE p.status = 'approved'
           AND NOT EXISTS (SELECT 1 FROM schedule_proposal q WHERE q.id = ANY (p.waits_on) AND q.status NOT IN ('approved', 'accepted'));
        LOOP
            EXIT WHEN block IS NULL;
            SELECT array_agg(p.id ORDER BY p.id) INTO one_less FROM schedule_proposal p
             WHERE p.id = ANY (block)
               AND NOT EXISTS (SELECT 1 FROM schedule_proposal q WHERE q.id = ANY (p.waits_on) AND q.status = 'approved' AND NOT q.id = ANY (block));
            EXIT WHEN one_less IS NOT DISTINCT FROM block;
            block := one_less;
        END LOOP;
        EXIT WHEN block IS NULL;
        broken := NULL;
        BEGIN
            -- Mark the block carried out in turn, then check every one of them in the final state.
            PERFORM relplan_apply_block(block, zone);
        EXCEPTION WHEN SQLSTATE 'RP001' THEN
            broken := SQLERRM;
        END;
        IF broken IS NOT NULL THEN
            UPDATE schedule_proposal SET status = 'withdrawn', decided_at = now(), decision_reason = 'withdrawn: ' || broken WHERE id = ANY (block);
            PERFORM relplan_withdraw_dependents(block, broken);
        END IF;
    END LOOP;
END $$;

-- A block of moves that wait on each other: each moved without its checks, then all checked.
CREATE FUNCTION relplan_apply_block(block bigint[], zone text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    one bigint;
    m record;
    broken text;
BEGIN
    FOREACH one IN ARRAY block LOOP
        SELECT p.*, (x.row_version = p.release_version) AS current, x.window_id AS old_window,
               tstzrange(x.deploy_start, x.deploy_end) AS old_deploy INTO m
          FROM schedule_proposal p JOIN release x ON x.id = p.release_id WHERE p.id = one;
        IF NOT m.current THEN RAISE EXCEPTION USING ERRCODE = 'RP001', MESSAGE = 'a release changed since move ' || one || ' was computed'; END IF;
        UPDATE release SET window_id = coalesce(m.new_window_id, window_id),
                           deploy_start = coalesce(lower(m.new_deploy), deploy_start), deploy_end = coalesce(upper(m.new_deploy), deploy_end)
         WHERE id = m.release_id;
        UPDATE environment_booking b SET during = tstzrange((x->>'start')::timestamptz, (x->>'end')::timestamptz)
          FROM jsonb_array_elements(m.booking_moves) x WHERE b.id = (x->>'booking')::bigint AND b.release_id = m.release_id;
        UPDATE schedule_proposal SET status = 'accepted', decided_at = now(), decided_by = coalesce(decided_by, session_user::text) WHERE id = one;
    END LOOP;
    FOR m IN SELECT p.* FROM schedule_proposal p WHERE p.id = ANY (block) LOOP
        broken := relplan_move_violation(m.release_id, m.new_window_id IS NOT NULL, m.new_deploy IS NOT NULL,
                                         ARRAY(SELECT (x->>'booking')::bigint FROM jsonb_array_elements(m.booking_moves) x), zone);
        IF broken IS NOT NULL THEN RAISE EXCEPTION USING ERRCODE = 'RP001', MESSAGE = broken; END IF;
    END LOOP;
EXCEPTION WHEN exclusion_violation OR check_violation THEN
    RAISE EXCEPTION USING ERRCODE = 'RP001', MESSAGE = 'an environment booking is taken then (' || SQLERRM || ')';
END $$;

-- Stores a plan computed by `schedule resolve --apply`. `moves` is a JSON array of
-- {"release": id, "action": text, "window": id|null, "deploy_start": ts|null, "deploy_end": ts|null,
--  "bookings": [{"booking": id, "start": ts, "end": ts}], "reason": text, "version": int, "needs": [index …]}.
-- `needs` lists the moves of the same array it waits on. The caller's own moves that need nothing
-- are carried out at once (in array order) and must keep every rule, or the whole call fails with
-- 40001 (the portfolio changed: compute again); its own moves that need others are stored approved;
-- other groups' moves are stored pending, for their owners. Returns one row per move.
CREATE FUNCTION relplan_store_plan(moves jsonb, zone text)
    RETURNS TABLE (idx integer, id bigint, status text, waits_on bigint[])
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
#variable_conflict use_column
DECLARE
    plan bigint := nextval('schedule_plan_seq');
    mine integer[] := relplan_groups_with_role(session_user, '{manager,release-manager}');
    ids bigint[] := '{}';
    m jsonb;
    r record;
    i integer := 0;
    new_id bigint;
    b jsonb;
    bm jsonb;
    window_code text;
    from_text text;
    to_text text;
    act text;
    broken text;
    deploy tstzrange;
    gone bigint[];
BEGIN
    IF cardinality(mine) = 0 THEN
        RAISE EXCEPTION 'only a manager or release-manager of some group stores scheduler moves' USING ERRCODE = 'insufficient_privilege';
    END IF;
    PERFORM relplan_lock_scheduler();
    IF jsonb_typeof(moves) IS DISTINCT FROM 'array' THEN RAISE EXCEPTION 'moves must be a JSON array' USING ERRCODE = 'invalid_parameter_value'; END IF;
    FOR m IN SELECT * FROM jsonb_array_elements(moves) LOOP
        i := i + 1;
        act := m->>'action';
        SELECT x.*, g.code || '/' || x.code AS ref, w.code AS window_code INTO r
          FROM release x JOIN management_group g ON g.id = x.group_id LEFT JOIN service_window w ON w.id = x.window_id
         WHERE x.id = (m->>'release')::bigint;
        IF NOT FOUND THEN RAISE EXCEPTION 'move %: no release %', i, m->>'release' USING ERRCODE = 'invalid_parameter_value'; END IF;
        IF r.row_version <> (m->>'version')::integer THEN
            RAISE EXCEPTION '% changed since the plan was computed; compute it again', r.ref USING ERRCODE = 'serialization_failure';
        END IF;
        deploy := CASE WHEN m->>'deploy_start' IS NULL THEN NULL ELSE tstzrange((m->>'deploy_start')::timestamptz, (m->>'deploy_end')::timestamptz) END;
        -- Structure of each action, and booking moves that keep each booking's length.
        IF act = 'move-window' THEN
            IF m->>'window' IS NULL OR deploy IS NULL THEN RAISE EXCEPTION 'move %: move-window needs a window and a deployment', i USING ERRCODE = 'invalid_parameter_value'; END IF;
            SELECT code INTO window_code FROM service_window WHERE service_window.id = (m->>'window')::integer;
            IF window_code IS NULL THEN RAISE EXCEPTION 'move %: no window %', i, m->>'window' USING ERRCODE = 'invalid_parameter_value'; END IF;
            from_text := coalesce(r.window_code, '(none)');
            to_text := window_code;
        ELSIF act = 'retime' THEN
            IF deploy IS NULL OR m->>'window' IS NOT NULL AND (m->>'window')::integer IS DISTINCT FROM r.window_id THEN
                RAISE EXCEPTION 'move %: retime keeps the window and needs a deployment', i USING ERRCODE = 'invalid_parameter_value';
            END IF;
            IF NOT EXISTS (SELECT 1 FROM service_window w WHERE w.id = r.window_id AND tstzrange(w.starts_at, w.ends_at) @> deploy) THEN
                RAISE EXCEPTION 'move %: retime must put the deployment inside its own window', i USING ERRCODE = 'invalid_parameter_value';
            END IF;
            from_text := relplan_range_text(tstzrange(r.deploy_start, r.deploy_end));
            to_text := relplan_range_text(deploy);
        ELSIF act = 'shift-booking' THEN
            IF m->>'window' IS NOT NULL OR deploy IS NOT NULL OR jsonb_array_length(coalesce(m->'bookings', '[]')) = 0 THEN
                RAISE EXCEPTION 'move %: shift-booking moves bookings only', i USING ERRCODE = 'invalid_parameter_value';
            END IF;
        ELSE
            RAISE EXCEPTION 'move %: unknown action %', i, act USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF deploy IS NOT NULL AND upper(deploy) - lower(deploy) <> r.deploy_end - r.deploy_start THEN
            RAISE EXCEPTION 'move %: a move keeps the deployment''s duration', i USING ERRCODE = 'invalid_parameter_value';
        END IF;
        bm := '[]';
        FOR b IN SELECT * FROM jsonb_array_elements(coalesce(m->'bookings', '[]')) LOOP
            SELECT bm || jsonb_build_object('booking', eb.id, 'environment', e.code,
                       'start', (b->>'start')::timestamptz, 'end', (b->>'end')::timestamptz,
                       'from_start', lower(eb.during), 'from_end', upper(eb.during)) INTO bm
              FROM environment_booking eb JOIN environment e ON e.id = eb.environment_id
             WHERE eb.id = (b->>'booking')::bigint AND eb.release_id = r.id
               AND upper(eb.during) - lower(eb.during) = (b->>'end')::timestamptz - (b->>'start')::timestamptz;
            IF NOT FOUND THEN
                RAISE EXCEPTION 'move %: booking % is not a booking of % of that length', i, b->>'booking', r.ref USING ERRCODE = 'invalid_parameter_value';
            END IF;
        END LOOP;
        IF act = 'shift-booking' THEN
            SELECT string_agg(x->>'environment' || ' ' || relplan_range_text(tstzrange((x->>'from_start')::timestamptz, (x->>'from_end')::timestamptz)), ', '),
                   string_agg(x->>'environment' || ' ' || relplan_range_text(tstzrange((x->>'start')::timestamptz, (x->>'end')::timestamptz)), ', ')
              INTO from_text, to_text FROM jsonb_array_elements(bm) x;
        END IF;
        -- A newer plan supersedes open moves of the release from older plans, and what waited on them.
        WITH s AS (
            UPDATE schedule_proposal p SET status = 'superseded', decided_at = now(),
                   decision_reason = 'superseded by a newer plan (' || session_user || ')'
             WHERE p.release_id = r.id AND p.status IN ('pending', 'approved')
            RETURNING p.id)
        SELECT array_agg(s.id) INTO gone FROM s;
        IF gone IS NOT NULL THEN PERFORM relplan_withdraw_dependents(gone, 'a move it waited on was superseded by a newer plan'); END IF;
        INSERT INTO schedule_proposal (group_id, release_id, action, from_text, to_text, new_window_id, new_deploy, booking_moves,
                                       reason, release_version, status, proposed_by, plan_id, approved_by)
        VALUES (r.group_id, r.id, act, from_text, to_text, (m->>'window')::integer, deploy, bm, coalesce(m->>'reason', ''),
                r.row_version, CASE WHEN r.group_id = ANY (mine) THEN 'approved' ELSE 'pending' END, session_user, plan,
                CASE WHEN r.group_id = ANY (mine) THEN session_user END)
        RETURNING schedule_proposal.id INTO new_id;
        ids := ids || new_id;
    END LOOP;
    -- Prerequisites by index, now that every move has its id.
    i := 0;
    FOR m IN SELECT * FROM jsonb_array_elements(moves) LOOP
        i := i + 1;
        UPDATE schedule_proposal p SET waits_on = ARRAY(SELECT ids[(n)::integer] FROM jsonb_array_elements_text(coalesce(m->'needs', '[]')) n
                                                         WHERE (n)::integer BETWEEN 1 AND cardinality(ids) AND (n)::integer <> i)
         WHERE p.id = ids[i];
    END LOOP;
    -- The caller's own moves that need nothing: now, in order, each keeping every rule.
    FOR i IN 1 .. cardinality(ids) LOOP
        IF EXISTS (SELECT 1 FROM schedule_proposal p WHERE p.id = ids[i] AND p.status = 'approved' AND p.waits_on = '{}') THEN
            broken := relplan_carry_out(ids[i], zone);
            IF broken IS NOT NULL THEN
                RAISE EXCEPTION 'the portfolio changed since the plan was computed (%); compute it again', broken USING ERRCODE = 'serialization_failure';
            END IF;
        END IF;
    END LOOP;
    PERFORM relplan_cascade(zone);
    RETURN QUERY SELECT o.n::integer, p.id, p.status, p.waits_on FROM unnest(ids) WITH ORDINALITY o(pid, n) JOIN schedule_proposal p ON p.id = o.pid ORDER BY o.n;
END $$;

-- The owning group decides on a pending move. Accepting with `waits` (moves of the same plan not
-- yet carried out) approves it to be carried out once they are; accepting without carries it out
-- now, keeping every rule, or marks it stale with what changed. Returns the move's status and why.
CREATE FUNCTION relplan_decide(move bigint, accept boolean, why text, waits bigint[], zone text)
    RETURNS TABLE (status text, detail text)
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
#variable_conflict use_column
DECLARE
    m record;
    broken text;
    ref text;
BEGIN
    PERFORM relplan_lock_scheduler();
    SELECT p.*, g.code || '/' || x.code AS rref INTO m FROM schedule_proposal p JOIN release x ON x.id = p.release_id
      JOIN management_group g ON g.id = x.group_id WHERE p.id = move;
    IF NOT FOUND THEN RAISE EXCEPTION 'unknown proposal %', move USING ERRCODE = 'no_data_found'; END IF;
    IF NOT m.group_id = ANY (relplan_groups_with_role(session_user, '{manager,release-manager}')) THEN
        RAISE EXCEPTION '% may not decide proposal % for %: only its group''s manager or release-manager does', session_user, move, m.rref
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF m.status <> 'pending' AND NOT (m.status = 'approved' AND NOT accept) THEN
        RETURN QUERY SELECT m.status, coalesce(m.decision_reason, 'proposal ' || move || ' is ' || m.status || ' already');
        RETURN;
    END IF;
    IF NOT accept THEN
        IF coalesce(btrim(why), '') = '' THEN RAISE EXCEPTION 'say why (--reason)' USING ERRCODE = 'invalid_parameter_value'; END IF;
        UPDATE schedule_proposal p SET status = 'rejected', decided_by = session_user, decided_at = now(), decision_reason = why WHERE p.id = move;
        PERFORM relplan_withdraw_dependents(ARRAY[move], 'proposal ' || move || ' for ' || m.rref || ' was rejected: ' || why);
        PERFORM relplan_withdraw_unneeded(m.waits_on || ARRAY(SELECT unnest(p.waits_on) FROM schedule_proposal p
                                                               WHERE p.plan_id = m.plan_id AND p.status = 'withdrawn' AND p.decided_at = now()),
                                          'proposal ' || move || ' for ' || m.rref || ' was rejected');
        RETURN QUERY SELECT 'rejected'::text, why;
        RETURN;
    END IF;
    waits := ARRAY(SELECT q.id FROM schedule_proposal q WHERE q.id = ANY (waits) AND q.plan_id = m.plan_id
                     AND q.status IN ('pending', 'approved') AND q.id <> move);
    UPDATE schedule_proposal p SET status = 'approved', decided_by = session_user, approved_by = session_user, waits_on = waits
     WHERE p.id = move;
    IF cardinality(waits) = 0 THEN
        broken := relplan_carry_out(move, zone);
        IF broken IS NOT NULL THEN
            UPDATE schedule_proposal p SET status = 'stale', decided_at = now(), decision_reason = broken WHERE p.id = move;
            PERFORM relplan_withdraw_dependents(ARRAY[move], 'proposal ' || move || ' can no longer be carried out: ' || broken);
            RETURN QUERY SELECT 'stale'::text, broken;
            RETURN;
        END IF;
    END IF;
    PERFORM relplan_cascade(zone);
    RETURN QUERY SELECT p.status, p.decision_reason FROM schedule_proposal p WHERE p.id = move;
END $$;

REVOKE ALL ON FUNCTION relplan_lock_scheduler(), relplan_scheduler_holder(), relplan_move_violation(bigint, boolean, boolean, bigint[], text),
    relplan_withdraw_dependents(bigint[], text), relplan_withdraw_unneeded(bigint[], text), relplan_carry_out(bigint, text), relplan_cascade(text),
    relplan_apply_block(bigint[], text), relplan_store_plan(jsonb, text), relplan_decide(bigint, boolean, text, bigint[], text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION relplan_lock_scheduler(), relplan_scheduler_holder(), relplan_store_plan(jsonb, text),
    relplan_decide(bigint, boolean, text, bigint[], text) TO relplan_user;
