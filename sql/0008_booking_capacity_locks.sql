-- Confirmations of one environment no longer wait for each other unless their times could
-- overlap. 0004 took one exclusive advisory lock per environment, held until commit (WAL flush
-- included), so every confirmation of an environment queued behind the previous one's commit and
-- group commit could not batch them: with 8 sessions on 4 environments most time was spent
-- waiting for that lock. The guarantee is unchanged: two confirmations whose ranges overlap still
-- take a common lock before either counts, and hold it until commit.
--
-- The locks, all transaction-level advisory locks:
--   * (environment, -1 - week)      EXCLUSIVE, for every week the booking's range touches (weeks
--                                   counted from 1970-01-01, UTC). Two bookings that overlap share
--                                   an instant, so both lock that instant's week. The negative
--                                   second key keeps these apart from (7216, environment).
--   * (7216, environment)           as in 0004, but SHARED when the range touches at most 8 weeks;
--                                   a longer booking takes it EXCLUSIVE instead of its weeks (and so
--                                   waits for, and blocks, every other confirmation of the
--                                   environment), which bounds the locks one booking takes.
-- A booking takes its locks in one order (environment, then weeks ascending), so single bookings
-- cannot deadlock; a transaction confirming several bookings can, as it already could across
-- environments in 0004 (PostgreSQL detects it, SQLSTATE 40P01, and the CLI retries), and one that
-- mixes a booking of more than 8 weeks with shorter ones of the same environment upgrades the
-- environment lock from shared to exclusive.
-- Capacity-1 environments take the same locks: overlapping confirmations conflict in the
-- exclusion constraint anyway, so they lose no concurrency, and a concurrent capacity change
-- still finds every writer ordered as in 0004.
--
-- Also: most confirmations overlap no more bookings than the capacity allows in total, which
-- bounds the peak; one index scan says so, and the peak is computed only when it does not.
CREATE OR REPLACE FUNCTION environment_booking_capacity() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    env_capacity integer;
    overlapping bigint;
    peak integer;
    holders text;
    first_week integer;
    last_week integer;
    week integer;
BEGIN
    IF NEW.status <> 'confirmed' THEN
        RETURN NULL;
    END IF;
    first_week := floor(extract(epoch FROM lower(NEW.during)) / 604800)::integer;
    last_week := floor(extract(epoch FROM upper(NEW.during)) / 604800)::integer;
    IF last_week - first_week < 8 THEN
        PERFORM pg_advisory_xact_lock_shared(7216, NEW.environment_id);
        FOR week IN first_week .. last_week LOOP
            PERFORM pg_advisory_xact_lock(NEW.environment_id, -1 - week);
        END LOOP;
    ELSE
        PERFORM pg_advisory_xact_lock(7216, NEW.environment_id);
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
