-- SEQUENCE and LAST-MODIFIED of the nightly report's calendar events (RFC 5545 §3.8.7.4,
-- RFC 5546): an event keeps its UID from night to night, and its SEQUENCE goes up whenever its
-- time or content changes, so a client that compares SEQUENCE takes the new time of a rescheduled
-- deployment. Kept per calendar (the all-groups one is '', a group's is its code), because a
-- group's calendar may describe an event differently from the all-groups one.
--
-- Derived data like conflict_history: no audit trigger. Nobody writes the table directly; the
-- nightly job records a run's events through relplan_record_calendar_events, in the transaction
-- that records the run's conflict history, and the function stores what it is given and nothing
-- else (one row per event, the sequence only ever going up).

CREATE TABLE calendar_event_sequence (
    calendar      text NOT NULL,
    uid           text NOT NULL,
    -- A digest of everything the event says but DTSTAMP, SEQUENCE and LAST-MODIFIED.
    fingerprint   text NOT NULL,
    sequence      integer NOT NULL DEFAULT 0 CHECK (sequence >= 0),
    last_modified timestamptz NOT NULL,
    PRIMARY KEY (calendar, uid)
);

ALTER TABLE calendar_event_sequence ENABLE ROW LEVEL SECURITY;
ALTER TABLE calendar_event_sequence FORCE ROW LEVEL SECURITY;
CREATE POLICY read_all ON calendar_event_sequence FOR SELECT TO relplan_user, CURRENT_USER USING (true);
-- The owner writes, from the function below only (nobody else holds a write privilege).
CREATE POLICY owner_records ON calendar_event_sequence FOR ALL TO CURRENT_USER USING (true) WITH CHECK (true);
REVOKE ALL ON calendar_event_sequence FROM PUBLIC;
GRANT SELECT ON calendar_event_sequence TO relplan_user;

-- Records a run's events of one or more calendars and returns each event's SEQUENCE and
-- LAST-MODIFIED: a new event gets 0 and `run_at`; a changed fingerprint adds one and takes `run_at`;
-- an unchanged one keeps both. Events missing from a run keep their row, so an event that comes
-- back continues its sequence.
CREATE FUNCTION relplan_record_calendar_events(calendars text[], uids text[], fingerprints text[], run_at timestamptz)
    RETURNS TABLE (calendar text, uid text, sequence integer, last_modified timestamptz)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    IF pg_catalog.cardinality(calendars) IS DISTINCT FROM pg_catalog.cardinality(uids)
       OR pg_catalog.cardinality(uids) IS DISTINCT FROM pg_catalog.cardinality(fingerprints) THEN
        RAISE EXCEPTION 'calendars, uids and fingerprints must have the same length' USING ERRCODE = '22023';
    END IF;
    IF run_at IS NULL OR run_at > pg_catalog.now() + interval '1 day' THEN
        RAISE EXCEPTION 'the run''s time must be given and not in the future' USING ERRCODE = '22023';
    END IF;
    INSERT INTO public.calendar_event_sequence AS s (calendar, uid, fingerprint, sequence, last_modified)
    SELECT DISTINCT ON (e.calendar, e.uid) e.calendar, e.uid, e.fingerprint, 0, run_at
    FROM ROWS FROM (pg_catalog.unnest(calendars), pg_catalog.unnest(uids), pg_catalog.unnest(fingerprints)) AS e(calendar, uid, fingerprint)
    ORDER BY e.calendar, e.uid
    ON CONFLICT ON CONSTRAINT calendar_event_sequence_pkey DO UPDATE SET
        fingerprint = EXCLUDED.fingerprint,
        sequence = s.sequence + 1,
        last_modified = EXCLUDED.last_modified
        WHERE s.fingerprint <> EXCLUDED.fingerprint;
    RETURN QUERY
    SELECT s.calendar, s.uid, s.sequence, s.last_modified
    FROM public.calendar_event_sequence s
    WHERE (s.calendar, s.uid) IN (SELECT e.calendar, e.uid FROM ROWS FROM (pg_catalog.unnest(calendars), pg_catalog.unnest(uids)) AS e(calendar, uid));
END
$$;
REVOKE ALL ON FUNCTION relplan_record_calendar_events(text[], text[], text[], timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION relplan_record_calendar_events(text[], text[], text[], timestamptz) TO relplan_user;
