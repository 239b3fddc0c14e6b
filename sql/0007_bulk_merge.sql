-- Cheaper bulk merges. A 1,000,000-row import writes about 1.6 million rows; before this
-- migration each of them paid, besides its own insert, a jsonb copy of itself in the audit trail
-- (four index entries more), a foreign-key lookup per reference, and for bookings a GiST entry
-- and a PL/pgSQL call. Measured on the benchmark's file: 77 s, of which the audit copies ~30 s.

-- 1. The audit trail of bulk statements. A statement that inserts or deletes more than 100 rows
--    records one audit row per release (per group for rows outside releases) listing the keys of
--    the rows and how many, not a jsonb copy of each: an inserted row's values are the row itself
--    until it first changes, and every later UPDATE or DELETE records the old values, so the
--    history stays complete. Copying a million rows into jsonb cost more than inserting them.
--    Small statements, what people do through the CLI, keep the full row as before.
ALTER TABLE audit_log ADD COLUMN row_count integer NOT NULL DEFAULT 1 CHECK (row_count >= 1);

CREATE OR REPLACE FUNCTION audit_statement() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    -- Evaluated once per statement, not once per row.
    who constant text := session_user;
    acting constant text := relplan_acting_role();
    key_column constant text := CASE WHEN TG_NARGS = 1 THEN TG_ARGV[0] END;
    is_group constant boolean := TG_TABLE_NAME = 'management_group';
    is_release constant boolean := TG_TABLE_NAME = 'release';
    bulk_threshold constant integer := 100;
    affected bigint;
    rows_name text;
    key_expression text;
    group_expression text;
    release_expression text;
    release_join text := '';
BEGIN
    IF TG_OP IN ('INSERT', 'DELETE') THEN
        -- Static SQL (its plan is cached): a single-row statement must stay cheap.
        IF TG_OP = 'INSERT' THEN
            rows_name := 'new_rows';
            SELECT count(*) INTO affected FROM (SELECT 1 FROM new_rows LIMIT bulk_threshold + 1) AS s;
        ELSE
            rows_name := 'old_rows';
            SELECT count(*) INTO affected FROM (SELECT 1 FROM old_rows LIMIT bulk_threshold + 1) AS s;
        END IF;
        IF affected > bulk_threshold THEN
            -- The table's own columns, read directly (no jsonb): statements over constant names only.
            SELECT string_agg(format('n.%I::text', k), ' || ''/'' || ') INTO key_expression FROM unnest(TG_ARGV) AS k;
            group_expression := CASE
                WHEN is_group THEN 'n.id'
                WHEN EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = TG_RELID AND attname = 'group_id' AND NOT attisdropped)
                    THEN 'n.group_id'
                ELSE 'NULL::integer' END;
            IF is_release THEN
                release_expression := 'n.id';
            ELSIF EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = TG_RELID AND attname = 'release_id' AND NOT attisdropped) THEN
                release_expression := 'n.release_id';
            ELSIF TG_TABLE_NAME = 'release_unit' THEN
                -- Units belong to a release through their package (gone already when a release is deleted).
                release_expression := 'p.release_id';
                release_join := 'LEFT JOIN public.release_package p ON p.id = n.package_id';
            ELSE
                release_expression := 'NULL::bigint';
            END IF;
            EXECUTE format(
                'INSERT INTO public.audit_log (login, acting_role, table_name, operation, row_key, group_id, release_id, row_count) '
                'SELECT $1, $2, $3, $4, string_agg(k, '',''), g, r, count(*) '
                'FROM (SELECT %s AS k, %s AS g, %s AS r FROM %I AS n %s) AS s GROUP BY g, r',
                key_expression, group_expression, release_expression, rows_name, release_join)
                USING who, acting, TG_TABLE_NAME, TG_OP;
            RETURN NULL;
        END IF;
    END IF;
    IF TG_OP = 'INSERT' THEN
        INSERT INTO audit_log (login, acting_role, table_name, operation, row_key, group_id, release_id, new_row)
        SELECT who, acting, TG_TABLE_NAME, 'INSERT',
               CASE WHEN key_column IS NOT NULL THEN d ->> key_column ELSE audit_row_key(d, TG_ARGV) END,
               CASE WHEN is_group THEN (d ->> 'id')::integer ELSE (d ->> 'group_id')::integer END,
               CASE WHEN is_release THEN (d ->> 'id')::bigint ELSE (d ->> 'release_id')::bigint END, d
        FROM (SELECT to_jsonb(n) AS d FROM new_rows n) AS s;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO audit_log (login, acting_role, table_name, operation, row_key, group_id, release_id, old_row)
        SELECT who, acting, TG_TABLE_NAME, 'DELETE',
               CASE WHEN key_column IS NOT NULL THEN d ->> key_column ELSE audit_row_key(d, TG_ARGV) END,
               CASE WHEN is_group THEN (d ->> 'id')::integer ELSE (d ->> 'group_id')::integer END,
               CASE WHEN is_release THEN (d ->> 'id')::bigint ELSE (d ->> 'release_id')::bigint END, d
        FROM (SELECT to_jsonb(o) AS d FROM old_rows o) AS s;
    ELSE
        -- Updates keep old and new values row by row, however many: they are what history is made of.
        INSERT INTO audit_log (login, acting_role, table_name, operation, row_key, group_id, release_id, old_row, new_row)
        SELECT who, acting, TG_TABLE_NAME, 'UPDATE', n.k,
               CASE WHEN is_group THEN (n.d ->> 'id')::integer ELSE (n.d ->> 'group_id')::integer END,
               CASE WHEN is_release THEN (n.d ->> 'id')::bigint ELSE (n.d ->> 'release_id')::bigint END, o.d, n.d
        FROM (SELECT d, CASE WHEN key_column IS NOT NULL THEN d ->> key_column ELSE audit_row_key(d, TG_ARGV) END AS k
              FROM (SELECT to_jsonb(x) AS d FROM new_rows x) AS nx) AS n
        JOIN (SELECT d, CASE WHEN key_column IS NOT NULL THEN d ->> key_column ELSE audit_row_key(d, TG_ARGV) END AS k
              FROM (SELECT to_jsonb(x) AS d FROM old_rows x) AS ox) AS o USING (k)
        WHERE o.d IS DISTINCT FROM n.d;
    END IF;
    RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION audit_statement() FROM PUBLIC;

-- 2. Targets are a registry of configuration items and their hierarchy (part_of), which the
--    scheduler reads for target collisions; a unit naming a target nobody registered is a leaf.
--    The foreign key cost a lookup per unit row and its index an entry per unit row; no query
--    looks units up by target (the scheduler reads them all with COPY).
ALTER TABLE release_unit DROP CONSTRAINT release_unit_target_code_fkey;
DROP INDEX release_unit_target;

-- 3. Bookings: the GiST index over every booking served no query (overlap checks look at
--    confirmed bookings only, through environment_booking_confirmed and the exclusion
--    constraint) and cost more than the row itself. Exclusivity matters for confirmed bookings
--    only, so tentative ones (what imports write) no longer call the PL/pgSQL trigger.
DROP INDEX environment_booking_env;
DROP TRIGGER environment_booking_exclusive ON environment_booking;
CREATE TRIGGER environment_booking_exclusive BEFORE INSERT OR UPDATE OF environment_id, status ON environment_booking
    FOR EACH ROW WHEN (NEW.status = 'confirmed') EXECUTE FUNCTION environment_booking_exclusive();
