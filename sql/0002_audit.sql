-- Append-only audit trail, written by the database itself.
-- Statement-level triggers with transition tables: a bulk import of a million rows costs one
-- set-based INSERT per statement, not a trigger call per row.

CREATE TABLE audit_log (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at              timestamptz NOT NULL DEFAULT now(),
    login           text NOT NULL DEFAULT session_user,
    acting_role     text NOT NULL DEFAULT current_user,
    table_name      text NOT NULL,
    operation       text NOT NULL CHECK (operation IN ('INSERT', 'UPDATE', 'DELETE')),
    row_key         text NOT NULL,
    group_id        integer,
    release_id      bigint,
    old_row         jsonb,
    new_row         jsonb
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_group ON audit_log (group_id, at) WHERE group_id IS NOT NULL;
CREATE INDEX audit_log_release ON audit_log (release_id, at) WHERE release_id IS NOT NULL;

-- The trigger's arguments name the columns that identify a row of its table.
CREATE FUNCTION audit_row_key(doc jsonb, key_columns text[]) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN (SELECT string_agg(doc ->> k, '/' ORDER BY ordinality) FROM unnest(key_columns) WITH ORDINALITY AS k);

CREATE FUNCTION audit_release_id(table_name text, doc jsonb) RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN table_name = 'release' THEN (doc ->> 'id')::bigint ELSE (doc ->> 'release_id')::bigint END;

CREATE FUNCTION audit_group_id(table_name text, doc jsonb) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN table_name = 'management_group' THEN (doc ->> 'id')::integer ELSE (doc ->> 'group_id')::integer END;

CREATE FUNCTION audit_statement() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO audit_log (table_name, operation, row_key, group_id, release_id, new_row)
        SELECT TG_TABLE_NAME, TG_OP, audit_row_key(d, TG_ARGV), audit_group_id(TG_TABLE_NAME, d),
               audit_release_id(TG_TABLE_NAME, d), d
        FROM (SELECT to_jsonb(n) AS d FROM new_rows n) AS s;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO audit_log (table_name, operation, row_key, group_id, release_id, old_row)
        SELECT TG_TABLE_NAME, TG_OP, audit_row_key(d, TG_ARGV), audit_group_id(TG_TABLE_NAME, d),
               audit_release_id(TG_TABLE_NAME, d), d
        FROM (SELECT to_jsonb(o) AS d FROM old_rows o) AS s;
    ELSE
        INSERT INTO audit_log (table_name, operation, row_key, group_id, release_id, old_row, new_row)
        SELECT TG_TABLE_NAME, TG_OP, n.k, audit_group_id(TG_TABLE_NAME, n.d), audit_release_id(TG_TABLE_NAME, n.d), o.d, n.d
        FROM (SELECT to_jsonb(x) AS d, audit_row_key(to_jsonb(x), TG_ARGV) AS k FROM new_rows x) AS n
        JOIN (SELECT to_jsonb(x) AS d, audit_row_key(to_jsonb(x), TG_ARGV) AS k FROM old_rows x) AS o USING (k)
        WHERE o.d IS DISTINCT FROM n.d;
    END IF;
    RETURN NULL;
END $$;

-- Nobody, the owner included, rewrites history.
CREATE FUNCTION audit_log_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_immutable();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_immutable();

DO $$
DECLARE
    audited CONSTANT text[][] := ARRAY[
        ['management_group', 'id'], ['membership', 'group_id,role_name'], ['environment', 'id'],
        ['service_window', 'id'], ['change_freeze', 'id'], ['target', 'code'], ['release_model', 'id'],
        ['release_plan', 'id'], ['plan_stakeholder', 'id'], ['release', 'id'],
        ['release_dependency', 'release_id,depends_on_id'], ['release_package', 'id'], ['release_unit', 'id'],
        ['environment_booking', 'id'], ['release_criterion', 'release_id,name'], ['deviation', 'id'],
        ['import_batch', 'id'], ['schedule_proposal', 'id'], ['freeze_override', 'freeze_id,release_id']];
    i integer;
    tbl text;
    args text;
BEGIN
    FOR i IN 1 .. array_length(audited, 1) LOOP
        tbl := audited[i][1];
        SELECT string_agg(quote_literal(c), ', ') INTO args FROM unnest(string_to_array(audited[i][2], ',')) AS c;
        EXECUTE format('CREATE TRIGGER audit_insert AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows '
                       'FOR EACH STATEMENT EXECUTE FUNCTION audit_statement(%s)', tbl, args);
        EXECUTE format('CREATE TRIGGER audit_update AFTER UPDATE ON %I REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows '
                       'FOR EACH STATEMENT EXECUTE FUNCTION audit_statement(%s)', tbl, args);
        EXECUTE format('CREATE TRIGGER audit_delete AFTER DELETE ON %I REFERENCING OLD TABLE AS old_rows '
                       'FOR EACH STATEMENT EXECUTE FUNCTION audit_statement(%s)', tbl, args);
    END LOOP;
END $$;
