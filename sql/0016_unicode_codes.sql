-- Codes as people write them: letters and digits of any script (Swedish å, ä, ö; Cyrillic,
-- Greek, CJK…), '-', '_' and '.', starting with a letter or a digit, at most 64 characters,
-- stored in Unicode NFC. The same rule as ReleaseCore's CodeKind.validate, so psql cannot store
-- a code the CLI or the importer would refuse. One function, used by every code's CHECK.
--
-- [[:alnum:]] follows the database's LC_CTYPE: in a UTF-8 database with a glibc UTF-8 locale
-- (C.UTF-8, which scripts/dev-db uses; en_US.UTF-8 of the postgres Docker image; sv_SE.UTF-8)
-- it is Unicode's Alphabetic property plus decimal digits, as in CodeKind. In a database whose
-- LC_CTYPE is plain C it would be ASCII only and every Swedish code would be refused here while
-- the CLI accepts it: the migration refuses such a database with a message rather than half-work.
DO $$
BEGIN
    IF current_setting('server_encoding') <> 'UTF8' THEN
        RAISE EXCEPTION 'relplan needs a UTF-8 database (this one is %): create it with ENCODING ''UTF8''',
            current_setting('server_encoding');
    END IF;
    IF NOT ('ä' ~ '^[[:alpha:]]$' AND 'ж' ~ '^[[:alpha:]]$') THEN
        RAISE EXCEPTION 'this database''s LC_CTYPE (%) does not classify letters beyond ASCII: create it with LC_CTYPE ''C.UTF-8'' (or another UTF-8 locale) so that codes such as LÖN can be checked',
            (SELECT datctype FROM pg_database WHERE datname = current_database());
    END IF;
END $$;

CREATE FUNCTION relplan_is_code(code text) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN code IS NFC NORMALIZED AND code ~ '^[[:alnum:]][[:alnum:]._-]{0,63}$';
COMMENT ON FUNCTION relplan_is_code(text) IS
    'The rule of every relplan code (ReleaseCore CodeKind.validate): 1 to 64 letters or digits of any script, -, _ or ., starting with a letter or digit, in NFC.';

-- Targets name configuration items as other tools do: anything but spaces and control
-- characters, at most 200 characters, in NFC (the importer's rule).
CREATE FUNCTION relplan_is_target(code text) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN code <> '' AND length(code) <= 200 AND code IS NFC NORMALIZED AND code !~ '[[:space:][:cntrl:]]';

ALTER TABLE management_group DROP CONSTRAINT management_group_code_check,
    ADD CONSTRAINT management_group_code_check CHECK (relplan_is_code(code));
ALTER TABLE environment DROP CONSTRAINT environment_code_check,
    ADD CONSTRAINT environment_code_check CHECK (relplan_is_code(code));
ALTER TABLE service_window DROP CONSTRAINT service_window_code_check,
    ADD CONSTRAINT service_window_code_check CHECK (relplan_is_code(code));
ALTER TABLE change_freeze DROP CONSTRAINT change_freeze_code_check,
    ADD CONSTRAINT change_freeze_code_check CHECK (relplan_is_code(code));
ALTER TABLE release_model DROP CONSTRAINT release_model_code_check,
    ADD CONSTRAINT release_model_code_check CHECK (relplan_is_code(code));
ALTER TABLE release_plan DROP CONSTRAINT release_plan_code_check,
    ADD CONSTRAINT release_plan_code_check CHECK (relplan_is_code(code));
ALTER TABLE release DROP CONSTRAINT release_code_check,
    ADD CONSTRAINT release_code_check CHECK (relplan_is_code(code));
-- Packages and units were checked only by the CLI and the importer (the same rule as above);
-- now by the database too.
ALTER TABLE release_package DROP CONSTRAINT release_package_code_check,
    ADD CONSTRAINT release_package_code_check CHECK (relplan_is_code(code));
ALTER TABLE release_unit DROP CONSTRAINT release_unit_code_check,
    ADD CONSTRAINT release_unit_code_check CHECK (relplan_is_code(code));
ALTER TABLE target DROP CONSTRAINT target_code_check,
    ADD CONSTRAINT target_code_check CHECK (relplan_is_target(code));
