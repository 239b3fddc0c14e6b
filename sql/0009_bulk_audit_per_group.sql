-- The audit trail of bulk statements, one row per group instead of one per release.
--
-- 0007 recorded a bulk statement (over 100 rows) as one audit row per release. A 1,000,000-row
-- import of 100,000 releases still wrote 400,000 audit rows (one per release for each of release,
-- release_package, release_unit and environment_booking), about 3 s of its 26. Now a bulk statement
-- writes one audit row per group it touched: 40 rows for that import, holding the same facts:
--   release_ids    the statement's releases in the group, sorted;
--   release_rows   how many of the statement's rows belong to each of them, in the same order;
--   row_key        each release's row keys, ',' within a release and ';' between releases, in the
--                  same order (rows that belong to no release come last);
--   row_count      all the rows; release_id is set too when there is exactly one release.
-- `relplan audit --release` finds such a row through the GIN index on release_ids and shows the
-- release's own part of it. Older per-release rows (release_ids NULL) read as before.
ALTER TABLE audit_log ADD COLUMN release_ids bigint[];
ALTER TABLE audit_log ADD COLUMN release_rows integer[];
ALTER TABLE audit_log ADD CHECK (cardinality(release_ids) = cardinality(release_rows));
CREATE INDEX audit_log_releases ON audit_log USING gin (release_ids) WHERE release_ids IS NOT NULL;

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
            -- One audit row per group. Its releases, sorted, with each one's keys (';' between
            -- releases, ',' within one; rows of no release last) and row count in the same order.
            EXECUTE format(
                'INSERT INTO public.audit_log (login, acting_role, table_name, operation, row_key, group_id, release_id, '
                '                              release_ids, release_rows, row_count) '
                'SELECT $1, $2, $3, $4, string_agg(k, '';'' ORDER BY r NULLS LAST), g, CASE WHEN count(r) = 1 THEN min(r) END, '
                '       array_agg(r ORDER BY r) FILTER (WHERE r IS NOT NULL), array_agg(n ORDER BY r) FILTER (WHERE r IS NOT NULL), sum(n) '
                'FROM (SELECT string_agg(k, '','') AS k, g, r, count(*)::integer AS n '
                '      FROM (SELECT %s AS k, %s AS g, %s AS r FROM %I AS n %s) AS s GROUP BY g, r) AS per_release '
                'GROUP BY g',
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
