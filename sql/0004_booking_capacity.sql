-- Confirmed bookings never exceed an environment's capacity at any instant, whoever writes them
-- (the CLI, the importer, or psql). Capacity 1 is also guarded by the exclusion constraint of 0001;
-- this covers larger capacities. Confirmations of one environment are serialised with a
-- transaction-level advisory lock; under READ COMMITTED each statement below then sees every
-- booking committed before the lock was granted, so check-then-insert cannot overbook.

CREATE FUNCTION environment_booking_capacity() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    env_capacity integer;
    peak integer;
    holders text;
BEGIN
    IF NEW.status <> 'confirmed' THEN
        RETURN NULL;
    END IF;
    PERFORM pg_advisory_xact_lock(7216, NEW.environment_id);
    SELECT capacity INTO env_capacity FROM environment WHERE id = NEW.environment_id;
    IF env_capacity <= 1 THEN
        RETURN NULL;  -- the exclusion constraint holds these
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

CREATE CONSTRAINT TRIGGER environment_booking_capacity AFTER INSERT OR UPDATE OF status, during, environment_id
    ON environment_booking FOR EACH ROW WHEN (NEW.status = 'confirmed') EXECUTE FUNCTION environment_booking_capacity();

-- Capacity-1 environments: the exclusion constraint refuses, the lock keeps waiting writers orderly.
CREATE INDEX environment_booking_confirmed ON environment_booking USING gist (environment_id, during) WHERE status = 'confirmed';
