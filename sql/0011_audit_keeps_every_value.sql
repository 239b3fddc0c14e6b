-- The audit trail holds every value written or removed (issue 16, findings 2 and 3).
--
-- 1. Bulk statements (over 100 rows inserted or deleted, 0007/0009) recorded keys only, so a unit
--    inserted with version "backdoor-9.9" and deleted again in bulk left no trace of its value.
--    Their audit rows (one per group and statement) now also carry every row's values, compactly:
--      bulk_columns  the table's columns, in order, when the statement ran;
--      bulk_rows     each row as the table's row literal (its text form, `(1,4,"a b",...)`), one
--                    array element per row, built with one set-based aggregate per statement.
--    relplan_audit_rows(id) gives an entry's rows back as jsonb, one per row.
-- 2. Updates pair old and new rows by key. Keys cannot change any more (0010), and a row that finds
--    no partner is recorded all the same: an old row alone, or a new row alone.
ALTER TABLE audit_log ADD COLUMN bulk_columns text[];
ALTER TABLE audit_log ADD COLUMN bulk_rows text[];
DO $$
BEGIN
    -- lz4 compresses the long arrays several times faster than pglz, where the server has it.
    ALTER TABLE audit_log ALTER COLUMN bulk_rows SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
    NULL;
END $$;

-- The row literals are written, and read back, in one date and interval style, whatever the session's.
CREATE OR REPLACE FUNCTION audit_statement() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
    SET datestyle = 'ISO, YMD' SET intervalstyle = 'postgres' AS $$
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
    columns text[];
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
            SELECT array_agg(a.attname::text ORDER BY a.attnum) INTO columns
            FROM pg_attribute a WHERE a.attrelid = TG_RELID AND a.attnum > 0 AND NOT a.attisdropped;
            -- One audit row per group: its releases, sorted, with each one's keys (';' between
            -- releases, ',' within one; rows of no release last) and row count in the same order
            -- (as 0009), and every row's values.
            EXECUTE format(
                'INSERT INTO public.audit_log (login, acting_role, table_name, operation, row_key, group_id, release_id, '
                '                              release_ids, release_rows, row_count, bulk_columns, bulk_rows) '
                'SELECT $1, $2, $3, $4, k.row_key, k.g, k.release_id, k.release_ids, k.release_rows, k.row_count, $5, v.row_values '
                'FROM (SELECT string_agg(k, '';'' ORDER BY r NULLS LAST) AS row_key, g, CASE WHEN count(r) = 1 THEN min(r) END AS release_id, '
                '             array_agg(r ORDER BY r) FILTER (WHERE r IS NOT NULL) AS release_ids, '
                '             array_agg(n ORDER BY r) FILTER (WHERE r IS NOT NULL) AS release_rows, sum(n) AS row_count '
                '      FROM (SELECT string_agg(k, '','') AS k, g, r, count(*)::integer AS n '
                '            FROM (SELECT %s AS k, %s AS g, %s AS r FROM %I AS n %s) AS s GROUP BY g, r) AS per_release '
                '      GROUP BY g) AS k '
                'JOIN (SELECT %s AS g, array_agg(n::text) AS row_values FROM %I AS n GROUP BY 1) AS v ON v.g IS NOT DISTINCT FROM k.g',
                key_expression, group_expression, release_expression, rows_name, release_join, group_expression, rows_name)
                USING who, acting, TG_TABLE_NAME, TG_OP, columns;
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
        -- A row whose key found no partner is kept too (old or new alone).
        INSERT INTO audit_log (login, acting_role, table_name, operation, row_key, group_id, release_id, old_row, new_row)
        SELECT who, acting, TG_TABLE_NAME, 'UPDATE', k,
               CASE WHEN is_group THEN (coalesce(n.d, o.d) ->> 'id')::integer ELSE (coalesce(n.d, o.d) ->> 'group_id')::integer END,
               CASE WHEN is_release THEN (coalesce(n.d, o.d) ->> 'id')::bigint ELSE (coalesce(n.d, o.d) ->> 'release_id')::bigint END,
               o.d, n.d
        FROM (SELECT d, CASE WHEN key_column IS NOT NULL THEN d ->> key_column ELSE audit_row_key(d, TG_ARGV) END AS k
              FROM (SELECT to_jsonb(x) AS d FROM new_rows x) AS nx) AS n
        FULL JOIN (SELECT d, CASE WHEN key_column IS NOT NULL THEN d ->> key_column ELSE audit_row_key(d, TG_ARGV) END AS k
                   FROM (SELECT to_jsonb(x) AS d FROM old_rows x) AS ox) AS o USING (k)
        WHERE o.d IS DISTINCT FROM n.d;
    END IF;
    RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION audit_statement() FROM PUBLIC;

-- An audit entry's rows as jsonb, one per row: the stored row itself for a single-row entry, the
-- bulk entry's row literals read back through the table's row type (while its columns are still
-- those the entry names; otherwise each literal as {"row": "..."}).
CREATE FUNCTION relplan_audit_rows(entry bigint) RETURNS SETOF jsonb
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, public, pg_temp
    SET datestyle = 'ISO, YMD' SET intervalstyle = 'postgres' AS $$
DECLARE
    e record;
    current_columns text[];
BEGIN
    SELECT a.table_name, a.old_row, a.new_row, a.bulk_columns, a.bulk_rows INTO e FROM public.audit_log a WHERE a.id = entry;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF e.bulk_rows IS NULL THEN
        IF coalesce(e.new_row, e.old_row) IS NOT NULL THEN
            RETURN NEXT coalesce(e.new_row, e.old_row);
        END IF;
        RETURN;
    END IF;
    SELECT array_agg(a.attname::text ORDER BY a.attnum) INTO current_columns
    FROM pg_attribute a WHERE a.attrelid = to_regclass('public.' || quote_ident(e.table_name)) AND a.attnum > 0 AND NOT a.attisdropped;
    IF current_columns IS NOT DISTINCT FROM e.bulk_columns THEN
        RETURN QUERY EXECUTE format('SELECT to_jsonb(r::public.%I) FROM unnest($1) AS r', e.table_name) USING e.bulk_rows;
    ELSE
        RETURN QUERY SELECT jsonb_build_object('row', r) FROM unnest(e.bulk_rows) AS r;
    END IF;
END $$;
