-- Conflict history for the nightly report: each run records the conflicts it found under their
-- stable identity (type + resources + releases), so a report can say "new since the last run",
-- "open for 6 days", "resolved since the last run". Derived data: no audit trigger.

CREATE TABLE conflict_history (
    identity     text PRIMARY KEY,
    type         text NOT NULL,
    severity     text NOT NULL,
    window_code  text,
    environment  text,
    target       text,
    releases     text[] NOT NULL,
    groups       text[] NOT NULL,
    message      text NOT NULL,
    first_seen   timestamptz NOT NULL,
    last_seen    timestamptz NOT NULL,
    resolved_at  timestamptz
);
CREATE INDEX conflict_history_open ON conflict_history (identity) WHERE resolved_at IS NULL;

CREATE TABLE report_run (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    started_at  timestamptz NOT NULL,
    finished_at timestamptz NOT NULL DEFAULT now(),
    run_by      text NOT NULL DEFAULT current_user,
    conflicts   integer NOT NULL,
    new         integer NOT NULL,
    resolved    integer NOT NULL
);

ALTER TABLE conflict_history ENABLE ROW LEVEL SECURITY;
ALTER TABLE conflict_history FORCE ROW LEVEL SECURITY;
ALTER TABLE report_run ENABLE ROW LEVEL SECURITY;
ALTER TABLE report_run FORCE ROW LEVEL SECURITY;
GRANT SELECT, INSERT, UPDATE ON conflict_history TO relplan_user;
GRANT SELECT, INSERT ON report_run TO relplan_user;
-- Anyone may run the nightly report (it only records what detection sees); nobody deletes history.
CREATE POLICY everyone ON conflict_history FOR ALL TO relplan_user, CURRENT_USER USING (true) WITH CHECK (true);
CREATE POLICY read_all ON report_run FOR SELECT TO relplan_user, CURRENT_USER USING (true);
CREATE POLICY runner_records ON report_run FOR INSERT TO relplan_user, CURRENT_USER WITH CHECK (run_by = current_user);
