-- Free text (everything that is not a code) has a length limit and holds no control characters
-- (ReleaseCore's TextField / TextRules, README "Text limits" and "What text may hold"):
-- a 200 MB title made `release list` slow for everybody, and an ESC/OSC/BEL sequence in a title
-- recoloured every viewer's terminal. Codes keep their own rule (0001, first-hour's migration).
--
-- Lengths are char_length (characters, as the client counts Unicode scalars). Control characters
-- are U+0001–U+001F, U+007F and U+0080–U+009F (PostgreSQL text cannot hold U+0000); multi-line
-- texts may hold line feeds (U+000A), nothing else. Login columns (who did something) are names
-- PostgreSQL gave: only their length is limited.
--
-- Each constraint is added NOT VALID (cheap, and from now on every write is checked), then
-- validated. A database holding rows that broke the rules before this migration still upgrades:
-- that constraint stays NOT VALID (new and changed rows are checked) and a WARNING says how to
-- find the rows; `VALIDATE CONSTRAINT` once they are fixed.
--
-- Written by the system only, and so not limited here: audit_log (trigger-written),
-- conflict_history, report_run and calendar_event_sequence (nightly job).

CREATE FUNCTION relplan_text_check(tbl text, col text, max_length integer, kind text) RETURNS void
    LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    constraint_name constant text := tbl || '_' || col || '_text';
    condition text;
BEGIN
    condition := format('char_length(%I) <= %s', col, max_length);
    IF kind = 'line' THEN
        condition := condition || format(' AND %I !~ %L', col, '[\x01-\x1f\x7f-\x9f]');
    ELSIF kind = 'lines' THEN
        condition := condition || format(' AND %I !~ %L', col, '[\x01-\x09\x0b-\x1f\x7f-\x9f]');
    ELSIF kind <> 'length' THEN
        RAISE EXCEPTION 'unknown text kind %', kind;
    END IF;
    EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I CHECK (%s) NOT VALID', tbl, constraint_name, condition);
    BEGIN
        EXECUTE format('ALTER TABLE %I VALIDATE CONSTRAINT %I', tbl, constraint_name);
    EXCEPTION WHEN check_violation THEN
        RAISE WARNING 'rows of % break the text rule for %.% (at most % characters%); the constraint % checks new writes and stays NOT VALID until they are fixed: SELECT * FROM % WHERE NOT (%)',
            tbl, tbl, col, max_length, CASE kind WHEN 'length' THEN '' ELSE ', no control characters' END,
            constraint_name, tbl, condition;
    END;
END $$;

-- kind: 'line' one line, 'lines' may hold line feeds, 'length' length only (logins, the model's source).
-- The numbers are ReleaseCore's TextField.maximumLength.
SELECT relplan_text_check(t.tbl, t.col, t.max_length, t.kind) FROM (VALUES
    ('management_group',  'name',            200,   'line'),
    ('membership',        'role_name',       64,    'length'),
    ('membership',        'added_by',        64,    'length'),
    ('environment',       'name',            200,   'line'),
    ('change_freeze',     'reason',          2000,  'lines'),
    ('release_model',     'name',            200,   'line'),
    ('release_model',     'source',          1000000, 'length'),
    ('release_model',     'created_by',      64,    'length'),
    ('release_plan',      'title',           200,   'lines'),
    ('release_plan',      'change_ref',      64,    'line'),
    ('release_plan',      'created_by',      64,    'length'),
    ('plan_stakeholder',  'name',            200,   'line'),
    ('plan_stakeholder',  'role',            200,   'line'),
    ('release',           'title',           200,   'lines'),
    ('release',           'implementer',     200,   'line'),
    ('release',           'evaluation',      10000, 'lines'),
    ('release',           'updated_by',      64,    'length'),
    ('release_unit',      'version',         64,    'line'),
    ('environment_booking', 'booked_by',     64,    'length'),
    ('release_criterion', 'phase',           200,   'line'),
    ('release_criterion', 'name',            200,   'line'),
    ('release_criterion', 'automatic',       200,   'line'),
    ('release_criterion', 'checked_by',      64,    'length'),
    ('deviation',         'text',            2000,  'lines'),
    ('deviation',         'resolution',      2000,  'lines'),
    ('deviation',         'recorded_by',     64,    'length'),
    ('deviation',         'handled_by',      64,    'length'),
    ('import_batch',      'file_name',       1024,  'line'),
    ('import_batch',      'sha256',          64,    'line'),
    ('import_batch',      'imported_by',     64,    'length'),
    ('schedule_proposal', 'from_text',       2000,  'lines'),
    ('schedule_proposal', 'to_text',         2000,  'lines'),
    ('schedule_proposal', 'reason',          2000,  'lines'),
    ('schedule_proposal', 'proposed_by',     64,    'length'),
    ('schedule_proposal', 'decided_by',      64,    'length'),
    ('schedule_proposal', 'decision_reason', 2000,  'lines'),
    ('freeze_override',   'reason',          2000,  'lines'),
    ('freeze_override',   'granted_by',      64,    'length'),
    ('target',            'registered_by',   64,    'length')
) AS t (tbl, col, max_length, kind);

DROP FUNCTION relplan_text_check(text, text, integer, text);

-- `relplan user create --password-file`: the client sends the SCRAM-SHA-256 verifier it computed
-- with libpq's PQencryptPasswordConn, never the password (log_statement = 'all' logs parameters).
-- Anything else is refused, so a plaintext password cannot be stored or logged through here.
CREATE OR REPLACE FUNCTION relplan_create_user(login name, password text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF login !~ '^[a-z_][a-z0-9_.-]{0,62}$' THEN
        RAISE EXCEPTION 'invalid login name "%": use lower-case letters, digits, _ . -', login USING ERRCODE = 'invalid_name';
    END IF;
    IF login LIKE 'pg\_%' OR login IN ('relplan_user', 'relplan_admin') THEN
        RAISE EXCEPTION 'the login name "%" is reserved', login USING ERRCODE = 'reserved_name';
    END IF;
    IF password IS NOT NULL AND password !~ '^SCRAM-SHA-256\$[0-9]+:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$' THEN
        RAISE EXCEPTION 'relplan_create_user takes a SCRAM-SHA-256 verifier, not a password'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = login) THEN
        EXECUTE format('GRANT relplan_user TO %I', login);
    ELSIF password IS NULL THEN
        EXECUTE format('CREATE ROLE %I LOGIN IN ROLE relplan_user', login);
    ELSE
        EXECUTE format('CREATE ROLE %I LOGIN PASSWORD %L IN ROLE relplan_user', login, password);
    END IF;
END $$;
