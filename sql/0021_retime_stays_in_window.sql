-- A `retime` keeps its release's window (the resolver emits it now, naming that window): a block
-- of moves that wait on each other checks a re-timed release's window as one it stays in, not
-- one it enters, as relplan_carry_out already does for a single move. (Only this line of 0014's
-- relplan_apply_block changes.)

CREATE OR REPLACE FUNCTION relplan_apply_block(block bigint[], zone text) RETURNS void
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
        broken := relplan_move_violation(m.release_id, m.action <> 'retime' AND m.new_window_id IS NOT NULL, m.new_deploy IS NOT NULL,
                                         ARRAY(SELECT (x->>'booking')::bigint FROM jsonb_array_elements(m.booking_moves) x), zone);
        IF broken IS NOT NULL THEN RAISE EXCEPTION USING ERRCODE = 'RP001', MESSAGE = broken; END IF;
    END LOOP;
EXCEPTION WHEN exclusion_violation OR check_violation THEN
    RAISE EXCEPTION USING ERRCODE = 'RP001', MESSAGE = 'an environment booking is taken then (' || SQLERRM || ')';
END $$;
