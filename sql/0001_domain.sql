-- relplan domain schema: groups, people, environments, windows, freezes, models, plans,
-- releases and their parts, bookings, deviations, imports, proposals.
-- Every group-owned table carries group_id itself, so row-level security (0002) checks one
-- column and never joins.

CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE management_group (
    id          integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code        text NOT NULL UNIQUE CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
    name        text NOT NULL CHECK (name <> ''),
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- A person's role in a group; role_name is the PostgreSQL login role.
CREATE TABLE membership (
    group_id    integer NOT NULL REFERENCES management_group ON DELETE CASCADE,
    role_name   text NOT NULL,
    role        text NOT NULL CHECK (role IN ('manager', 'release-manager', 'member', 'viewer')),
    added_at    timestamptz NOT NULL DEFAULT now(),
    added_by    text NOT NULL DEFAULT current_user,
    PRIMARY KEY (group_id, role_name)
);
CREATE INDEX membership_role_name ON membership (role_name);

CREATE TABLE environment (
    id          integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code        text NOT NULL UNIQUE CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
    name        text NOT NULL,
    kind        text NOT NULL DEFAULT 'test' CHECK (kind IN ('dev', 'test', 'staging', 'preprod', 'prod')),
    capacity    integer NOT NULL DEFAULT 1 CHECK (capacity >= 1)
);

CREATE TABLE service_window (
    id          integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code        text NOT NULL UNIQUE CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
    starts_at   timestamptz NOT NULL,
    ends_at     timestamptz NOT NULL,
    capacity    integer NOT NULL DEFAULT 1 CHECK (capacity >= 1),
    kind        text NOT NULL DEFAULT 'regular' CHECK (kind IN ('regular', 'extra')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_at > starts_at)
);
CREATE INDEX service_window_starts_at ON service_window (starts_at);

CREATE TABLE change_freeze (
    id              integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code            text NOT NULL UNIQUE CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
    starts_at       timestamptz NOT NULL,
    ends_at         timestamptz NOT NULL,
    reason          text NOT NULL CHECK (reason <> ''),
    environment_id  integer REFERENCES environment,
    CHECK (ends_at > starts_at)
);

-- Configuration items that units change; part_of makes `crm-api` collide with `srv-crm-01`.
CREATE TABLE target (
    code        text PRIMARY KEY CHECK (code <> '' AND length(code) <= 200),
    part_of     text REFERENCES target,
    CHECK (part_of IS DISTINCT FROM code)
);

-- Release models are versioned: a plan points at the version it was made from, so changing
-- a model never changes existing plans. group_id NULL: a shared model, managed by admins.
CREATE TABLE release_model (
    id          integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code        text NOT NULL CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
    version     integer NOT NULL CHECK (version >= 1),
    group_id    integer REFERENCES management_group,
    name        text NOT NULL,
    definition  jsonb NOT NULL,
    source      text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  text NOT NULL DEFAULT current_user,
    UNIQUE (code, version)
);

CREATE TABLE release_plan (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    group_id    integer NOT NULL REFERENCES management_group,
    code        text NOT NULL CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
    title       text NOT NULL DEFAULT '',
    change_ref  text,
    model_id    integer REFERENCES release_model,
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  text NOT NULL DEFAULT current_user,
    UNIQUE (group_id, code),
    UNIQUE (id, group_id)
);

CREATE TABLE plan_stakeholder (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    group_id    integer NOT NULL,
    plan_id     bigint NOT NULL,
    name        text NOT NULL CHECK (name <> ''),
    role        text NOT NULL CHECK (role <> ''),
    FOREIGN KEY (plan_id, group_id) REFERENCES release_plan (id, group_id) ON DELETE CASCADE,
    UNIQUE (plan_id, name, role)
);

CREATE TABLE release (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    group_id        integer NOT NULL,
    plan_id         bigint NOT NULL,
    code            text NOT NULL CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
    title           text NOT NULL DEFAULT '',
    window_id       integer REFERENCES service_window,
    deploy_start    timestamptz,
    deploy_end      timestamptz,
    priority        smallint NOT NULL DEFAULT 3 CHECK (priority BETWEEN 1 AND 5),
    deadline        date,
    status          text NOT NULL DEFAULT 'planned' CHECK (status IN
                        ('planned', 'building', 'testing', 'ready', 'deploying', 'deployed',
                         'evaluating', 'closed', 'cancelled')),
    pinned          boolean NOT NULL DEFAULT false,
    implementer     text,
    evaluation      text,
    row_version     integer NOT NULL DEFAULT 1,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    updated_by      text NOT NULL DEFAULT current_user,
    FOREIGN KEY (plan_id, group_id) REFERENCES release_plan (id, group_id),
    UNIQUE (group_id, code),
    UNIQUE (id, group_id),
    CHECK ((deploy_start IS NULL) = (deploy_end IS NULL)),
    CHECK (deploy_end > deploy_start)
);
CREATE INDEX release_window ON release (window_id) WHERE window_id IS NOT NULL;
CREATE INDEX release_plan_id ON release (plan_id);
CREATE INDEX release_deploy ON release (deploy_start);

-- Optimistic concurrency: every change bumps row_version and records who made it.
CREATE FUNCTION release_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.row_version := OLD.row_version + 1;
    NEW.updated_at := now();
    NEW.updated_by := current_user;
    RETURN NEW;
END $$;
CREATE TRIGGER release_touch BEFORE UPDATE ON release FOR EACH ROW
    WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION release_touch();

CREATE TABLE release_dependency (
    group_id        integer NOT NULL,
    release_id      bigint NOT NULL,
    depends_on_id   bigint NOT NULL REFERENCES release ON DELETE CASCADE,
    FOREIGN KEY (release_id, group_id) REFERENCES release (id, group_id) ON DELETE CASCADE,
    PRIMARY KEY (release_id, depends_on_id),
    CHECK (release_id <> depends_on_id)
);
CREATE INDEX release_dependency_depends_on ON release_dependency (depends_on_id);

CREATE TABLE release_package (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    group_id    integer NOT NULL,
    release_id  bigint NOT NULL,
    code        text NOT NULL CHECK (code <> '' AND length(code) <= 100),
    FOREIGN KEY (release_id, group_id) REFERENCES release (id, group_id) ON DELETE CASCADE,
    UNIQUE (release_id, code),
    UNIQUE (id, group_id)
);

CREATE TABLE release_unit (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    group_id    integer NOT NULL,
    package_id  bigint NOT NULL,
    code        text NOT NULL CHECK (code <> '' AND length(code) <= 100),
    kind        text NOT NULL CHECK (kind IN ('server', 'application', 'update', 'virtual-server', 'database',
                    'network', 'documentation', 'training', 'routine', 'agreement')),
    target_code text NOT NULL REFERENCES target,
    version     text,
    FOREIGN KEY (package_id, group_id) REFERENCES release_package (id, group_id) ON DELETE CASCADE,
    UNIQUE (package_id, code)
);
CREATE INDEX release_unit_target ON release_unit (target_code);

-- A release's claim on an environment. Confirmed bookings of a capacity-1 environment can
-- never overlap (the exclusion constraint); larger capacities are checked under a lock on
-- the environment row when a booking is confirmed.
CREATE TABLE environment_booking (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    group_id        integer NOT NULL,
    release_id      bigint NOT NULL,
    environment_id  integer NOT NULL REFERENCES environment,
    during          tstzrange NOT NULL CHECK (NOT isempty(during) AND NOT lower_inf(during) AND NOT upper_inf(during)),
    status          text NOT NULL DEFAULT 'tentative' CHECK (status IN ('tentative', 'confirmed')),
    exclusive       boolean NOT NULL DEFAULT false,
    booked_by       text NOT NULL DEFAULT current_user,
    FOREIGN KEY (release_id, group_id) REFERENCES release (id, group_id) ON DELETE CASCADE,
    UNIQUE (release_id, environment_id, during),
    CONSTRAINT environment_booking_no_overlap
        EXCLUDE USING gist (environment_id WITH =, during WITH &&) WHERE (status = 'confirmed' AND exclusive)
);
CREATE INDEX environment_booking_env ON environment_booking USING gist (environment_id, during);

-- Schema-qualified: a temporary table named `environment` must not decide exclusivity.
CREATE FUNCTION environment_booking_exclusive() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT e.capacity = 1 INTO NEW.exclusive FROM public.environment e WHERE e.id = NEW.environment_id;
    RETURN NEW;
END $$;
CREATE TRIGGER environment_booking_exclusive BEFORE INSERT OR UPDATE OF environment_id ON environment_booking
    FOR EACH ROW EXECUTE FUNCTION environment_booking_exclusive();

-- Release-level copies of a model's criteria; manual ones are ticked by a person.
CREATE TABLE release_criterion (
    group_id    integer NOT NULL,
    release_id  bigint NOT NULL,
    phase       text NOT NULL,
    name        text NOT NULL,
    automatic   text,
    checked_at  timestamptz,
    checked_by  text,
    FOREIGN KEY (release_id, group_id) REFERENCES release (id, group_id) ON DELETE CASCADE,
    PRIMARY KEY (release_id, name)
);

CREATE TABLE deviation (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    group_id    integer NOT NULL,
    release_id  bigint NOT NULL,
    severity    text NOT NULL CHECK (severity IN ('low', 'medium', 'high')),
    text        text NOT NULL CHECK (text <> ''),
    recorded_at timestamptz NOT NULL DEFAULT now(),
    recorded_by text NOT NULL DEFAULT current_user,
    resolution  text,
    handled_at  timestamptz,
    handled_by  text,
    FOREIGN KEY (release_id, group_id) REFERENCES release (id, group_id) ON DELETE CASCADE,
    CHECK ((resolution IS NULL) = (handled_at IS NULL))
);
CREATE INDEX deviation_release ON deviation (release_id);

CREATE TABLE import_batch (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    file_name   text NOT NULL,
    sha256      text NOT NULL,
    rows        integer NOT NULL,
    created     integer NOT NULL DEFAULT 0,
    updated     integer NOT NULL DEFAULT 0,
    unchanged   integer NOT NULL DEFAULT 0,
    rejected    integer NOT NULL DEFAULT 0,
    group_ids   integer[] NOT NULL DEFAULT '{}',
    imported_by text NOT NULL DEFAULT current_user,
    imported_at timestamptz NOT NULL DEFAULT now()
);

-- A move the scheduler proposed for a release of another group: only the owner applies it.
CREATE TABLE schedule_proposal (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    group_id        integer NOT NULL,
    release_id      bigint NOT NULL,
    action          text NOT NULL CHECK (action IN ('move-window', 'shift-booking')),
    from_text       text NOT NULL,
    to_text         text NOT NULL,
    new_window_id   integer REFERENCES service_window,
    new_deploy      tstzrange,
    booking_moves   jsonb NOT NULL DEFAULT '[]',
    reason          text NOT NULL,
    release_version integer NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'accepted', 'rejected', 'superseded')),
    proposed_by     text NOT NULL DEFAULT current_user,
    proposed_at     timestamptz NOT NULL DEFAULT now(),
    decided_by      text,
    decided_at      timestamptz,
    decision_reason text,
    FOREIGN KEY (release_id, group_id) REFERENCES release (id, group_id) ON DELETE CASCADE
);
CREATE INDEX schedule_proposal_pending ON schedule_proposal (group_id) WHERE status = 'pending';

-- Freeze overrides granted by an admin, one freeze for one release, with the reason.
CREATE TABLE freeze_override (
    freeze_id   integer NOT NULL REFERENCES change_freeze ON DELETE CASCADE,
    release_id  bigint NOT NULL REFERENCES release ON DELETE CASCADE,
    reason      text NOT NULL CHECK (reason <> ''),
    granted_by  text NOT NULL DEFAULT current_user,
    granted_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (freeze_id, release_id)
);
