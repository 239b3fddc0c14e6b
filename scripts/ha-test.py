"""The high-availability suite (scripts/ha-test): relplan on a pg_auto_failover monitor, primary and
synchronous secondary (scripts/ha-cluster), the primary's machine "lost" (its pg_autoctl and its
PostgreSQL killed with SIGKILL) while four clients confirm bookings and an import runs.

Every check prints ok or FAIL; the figures (time to recover) are printed as they are measured."""
import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time

parser = argparse.ArgumentParser()
parser.add_argument("--bin", required=True)
parser.add_argument("--root", required=True)
parser.add_argument("--import-rows", type=int, default=20_000)
parser.add_argument("--resolve-trials", type=int, default=1)
parser.add_argument("--resolve-releases", type=int, default=5_000)
args = parser.parse_args()
RELPLAN = os.path.join(args.bin, "relplan")
BENCH = os.path.join(args.bin, "relplan-bench")
HA_DIR = os.environ["HA_DIR"]
MONITOR_PORT = int(os.environ["HA_PORT"])
NODES = {"node1": MONITOR_PORT + 1, "node2": MONITOR_PORT + 2}
HOSTS = "127.0.0.1,127.0.0.1"
PORTS = ",".join(str(port) for port in NODES.values())
rng = random.Random(20261202)
passed = failed = 0
figures = []
# Whatever the caller's shell exported for libpq must not steer the suite's connections.
BASE_ENV = {k: v for k, v in os.environ.items() if not k.startswith("PG") and k != "RELPLAN_DATABASE_URL"}
BASE_ENV["TZ"] = "UTC"


def say(text):
    print(f"\033[1m==> {text}\033[0m", file=sys.stderr, flush=True)


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"  ok    {name}", flush=True)
    else:
        failed += 1
        print(f"  FAIL  {name}: {detail}", flush=True)


def figure(name, value):
    figures.append((name, value))
    print(f"  figure  {name}: {value}", flush=True)


def url(database, user=None, attrs="read-write", hosts=HOSTS, ports=PORTS):
    text = f"host={hosts} port={ports} dbname={database} connect_timeout=2"
    if attrs:
        text += f" target_session_attrs={attrs}"
    if user:
        text += f" user={user}"
    return text


def psql(sql, database="ha_suite", port=None, check_rc=True):
    """psql as postgres: on one node when port is given, else on whichever is primary."""
    conninfo = url(database, "postgres", attrs=None, hosts="127.0.0.1", ports=str(port)) if port else url(database, "postgres")
    result = subprocess.run(["psql", "-qAtX", "-v", "ON_ERROR_STOP=1", "-d", conninfo, "-c", sql],
                            capture_output=True, text=True, env=BASE_ENV)
    if check_rc and result.returncode != 0:
        raise RuntimeError(f"psql failed: {sql}\n{result.stderr}")
    return result.stdout.strip()


def monitor(sql):
    return subprocess.run(["psql", "-qAtX", "-h", os.path.join(HA_DIR, "run"), "-p", str(MONITOR_PORT), "-U", os.environ["CLUSTER_USER"],
                           "-d", "pg_auto_failover", "-c", sql], capture_output=True, text=True, env=BASE_ENV).stdout.strip()


def relplan(arguments, user, database="ha_suite", attrs="read-write", extra_env=None, timeout=600, conninfo=None):
    env = dict(BASE_ENV, RELPLAN_DATABASE_URL=conninfo or url(database, user, attrs))
    env.update(extra_env or {})
    return subprocess.run([RELPLAN] + arguments, capture_output=True, text=True, env=env, timeout=timeout)


def create_database(name, template=None):
    """CREATE DATABASE on the primary, then wait until every node has replayed it: synchronous
    replication waits for the standby's flush, not its replay, and libpq gives up on the first server
    that answers "database does not exist" instead of trying the next."""
    psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", "postgres")
    psql(f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else ""), "postgres")
    deadline = time.monotonic() + 30
    for port in NODES.values():
        while psql(f"SELECT count(*) FROM pg_database WHERE datname = '{name}'", "postgres", port=port, check_rc=False) != "1":
            if time.monotonic() > deadline:
                raise RuntimeError(f"database {name} never reached 127.0.0.1:{port}")
            time.sleep(0.05)


def states():
    rows = monitor("SELECT nodename, reportedstate, goalstate FROM pgautofailover.node ORDER BY nodename")
    return {line.split("|")[0]: tuple(line.split("|")[1:]) for line in rows.splitlines() if line}


def primary_node():
    for name, (reported, goal) in states().items():
        if reported == goal and reported in ("primary", "wait_primary", "single"):
            return name
    return None


def wait_pair(limit=180):
    """Until one node is primary and the other its secondary, as the monitor sees it."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        current = states()
        if sorted(current.values()) == [("primary", "primary"), ("secondary", "secondary")]:
            return True
        time.sleep(0.5)
    return False


def supervisor_pid(name):
    pidfile = os.path.join(HA_DIR, "run", "pg_autoctl" + HA_DIR, name, "pg_autoctl.pid")
    with open(pidfile) as handle:
        return int(handle.readline())


def kill_node(name):
    """The node's machine lost: SIGKILL to its pg_autoctl, keeper, postmaster and backends (one process group)."""
    group = os.getpgid(supervisor_pid(name))
    os.killpg(group, signal.SIGKILL)
    return time.monotonic()


def restart_nodes():
    started = subprocess.run([os.path.join(args.root, "scripts", "ha-cluster"), "start"], capture_output=True, text=True,
                             env=dict(os.environ))
    if started.returncode != 0:
        print(started.stderr, file=sys.stderr)
    return wait_pair()


# --- The cluster and a database on it -------------------------------------------------------
say("the cluster: one primary, one synchronous secondary")
check("the monitor sees a primary and a secondary", wait_pair(), states())
first_primary = primary_node()
standby = next(name for name in NODES if name != first_primary)
check("synchronous replication: the primary waits for its standby's flush at commit",
      psql("SELECT current_setting('synchronous_commit') || ' ' || (current_setting('synchronous_standby_names') <> '')::text "
           "|| ' ' || coalesce((SELECT string_agg(sync_state, ',') FROM pg_stat_replication), '')", "postgres") in
      ("on true quorum", "on true sync"),
      psql("SELECT current_setting('synchronous_standby_names'), (SELECT string_agg(sync_state, ',') FROM pg_stat_replication)", "postgres"))

say("a database for the suite, migrated and seeded through the multi-host string")
create_database("ha_suite")
migrate = relplan(["db", "migrate"], "postgres")
check("relplan db migrate through the multi-host string", migrate.returncode == 0, migrate.stderr)
subprocess.run(["psql", "-qX", "-v", "ON_ERROR_STOP=1", "-d", url("ha_suite", "postgres"), "-f",
                os.path.join(args.root, "scripts", "bench-seed.sql")], check=True, capture_output=True, env=BASE_ENV)
for login in ("ha_booker", "ha_importer", "ha_reporter"):
    psql(f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{login}') THEN PERFORM relplan_create_user('{login}', NULL); END IF; END $$")
# The nightly job's own login: only relplan_reporter's logins record the history (sql/0019).
psql("SELECT relplan_grant_reporter('ha_reporter')")
psql("INSERT INTO membership (group_id, role_name, role) SELECT id, r, 'release-manager' FROM management_group, "
     "unnest(ARRAY['ha_booker', 'ha_importer']) AS r ON CONFLICT DO NOTHING")
psql("INSERT INTO environment (code, name, kind, capacity) VALUES ('HA-ONE', 'HA capacity 1', 'test', 1), "
     "('HA-TWO', 'HA capacity 2', 'test', 2)")
setup = relplan(["plan", "create", "G01", "HA-P", "--title", "HA suite"], "ha_booker")
check("plan create", setup.returncode == 0, setup.stderr)
CLIENTS, RELEASES_PER_CLIENT = 4, 4
for client in range(CLIENTS):
    for index in range(RELEASES_PER_CLIENT):
        created = relplan(["release", "create", "G01", f"HA-{client}-{index}", "--plan", "HA-P", "--title", f"client {client}"], "ha_booker")
        if created.returncode != 0:
            check(f"release create HA-{client}-{index}", False, created.stderr)
csv = os.path.join(args.root, ".relplan", "ha-import.csv")
subprocess.run([os.path.join(args.root, "scripts", "gen-import-csv"), str(args.import_rows), str(max(args.import_rows // 10, 1)), csv], check=True)
IMPORT_STATE = ("SELECT (SELECT count(*) FROM release WHERE code NOT LIKE 'HA-%') || '/' || (SELECT count(*) FROM release_unit) || '/' || "
                "(SELECT count(*) FROM import_batch)")
empty_import = psql(IMPORT_STATE)


# --- Four clients confirming bookings, an import, and the primary killed ----------------------
class Booker(threading.Thread):
    """Confirms bookings one after the other; each attempt a (release, environment, day) of its own."""

    def __init__(self, client, stop):
        super().__init__()
        self.client, self.stop, self.attempts = client, stop, []

    def run(self):
        attempt = 0
        while not self.stop.is_set():
            release = f"G01/HA-{self.client}-{attempt % RELEASES_PER_CLIENT}"
            environment = "HA-ONE" if attempt % 2 == 0 else "HA-TWO"
            day = 1 + attempt // 2
            start = time.strftime("%Y-%m-%d", time.gmtime(1924992000 + day * 86400))  # from 2031-01-01
            result = relplan(["book", release, environment, "--start", f"{start} 08:00", "--end", f"{start} 17:00", "--confirm"],
                             "ha_booker", timeout=120)
            self.attempts.append((release, environment, start, result.returncode, result.stderr.strip(), time.monotonic()))
            attempt += 1


say(f"four clients confirm bookings and a {args.import_rows:,}-row import runs; then the primary is killed")
stop = threading.Event()
bookers = [Booker(client, stop) for client in range(CLIENTS)]
for booker in bookers:
    booker.start()


def confirmed_so_far():
    return sum(1 for booker in bookers for attempt in list(booker.attempts) if attempt[3] == 0)


# The kill must land while bookings are being confirmed: wait (bounded) for the first one before the
# import starts, so a slow first booking on a loaded machine cannot let the kill come too early.
deadline = time.monotonic() + 60
while time.monotonic() < deadline and confirmed_so_far() == 0:
    time.sleep(0.05)
check("a booking is confirmed within 60 s of the clients starting", confirmed_so_far() > 0,
      [attempt[3:5] for booker in bookers for attempt in list(booker.attempts)][:3] or "no attempt finished")
importer = subprocess.Popen([RELPLAN, "import", csv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(BASE_ENV, RELPLAN_DATABASE_URL=url("ha_suite", "ha_importer")))
import_seen = False
deadline = time.monotonic() + 60
while time.monotonic() < deadline and importer.poll() is None:
    if psql("SELECT count(*) FROM pg_stat_activity WHERE usename = 'ha_importer' AND state = 'active'", check_rc=False) not in ("", "0"):
        import_seen = True
        break
    time.sleep(0.05)
time.sleep(rng.uniform(0.3, 1.0))
confirmed_before = confirmed_so_far()
killed = primary_node()
import_running = importer.poll() is None
check("the import was running on the primary when it was killed", import_seen and import_running,
      f"seen={import_seen}, exit={importer.poll()}: use a larger --import-rows")
check("bookings were being confirmed when the primary was killed", confirmed_before > 0, "no booking confirmed yet")
killed_at = kill_node(killed)
say(f"killed {killed} (127.0.0.1:{NODES[killed]}), its pg_autoctl and PostgreSQL, with SIGKILL")

# The CLI during the failover window, as a person would run it, until the first success.
window = []
recovered_at = None
while time.monotonic() - killed_at < 120:
    started = time.monotonic()
    probe = relplan(["release", "list", "--format", "csv"], "ha_booker", timeout=60)
    window.append((probe.returncode, probe.stderr.strip(), time.monotonic() - started))
    if probe.returncode == 0:
        recovered_at = time.monotonic()
        break
    time.sleep(0.1)
recovery = (recovered_at - killed_at) if recovered_at else None
failures = [entry for entry in window if entry[0] != 0]
check("relplan release list succeeds again on the new primary", recovered_at is not None, window[-3:])
if recovery is not None:
    figure("time to recover (kill of the primary to the first successful relplan release list)", f"{recovery:.1f} s")
check("during the failover window: every failure exits 75 saying the database is failing over",
      failures and all(code == 75 and "failing over" in text for code, text, _ in failures),
      [entry for entry in failures if entry[0] != 75 or "failing over" not in entry[1]][:3] or "no failure seen")
check("during the failover window: no raw libpq text", all("Is the server running" not in text for _, text, _ in failures),
      failures[:1])
check("during the failover window: each failure is fast (under 3 s)", all(seconds < 3 for _, _, seconds in failures),
      max((seconds for _, _, seconds in failures), default=0))
figure("failing-over answers during the window", f"{len(failures)} (slowest {max((s for _, _, s in failures), default=0):.2f} s)")
new_primary = primary_node()
check("the standby became the primary", new_primary == standby, f"primary now {new_primary}, states {states()}")

time.sleep(2)
stop.set()
for booker in bookers:
    booker.join()
import_code = importer.wait()
attempts = [attempt for booker in bookers for attempt in booker.attempts]
committed = [attempt for attempt in attempts if attempt[3] == 0]
after_recovery = [attempt for attempt in committed if recovered_at and attempt[5] > recovered_at]
figure("booking attempts", f"{len(attempts)}: {len(committed)} confirmed ({len(after_recovery)} after the failover), "
       f"{sum(1 for a in attempts if a[3] == 75)} exit 75")
check("every booking attempt exits 0 or 75", all(attempt[3] in (0, 75) for attempt in attempts),
      [attempt for attempt in attempts if attempt[3] not in (0, 75)][:3])
check("bookings are confirmed again after the failover", len(after_recovery) > 0, "none after recovery")
rows = psql("SELECT r.code || '|' || e.code || '|' || to_char(lower(b.during) AT TIME ZONE 'UTC', 'YYYY-MM-DD') FROM environment_booking b "
            "JOIN release r ON r.id = b.release_id JOIN environment e ON e.id = b.environment_id "
            "WHERE b.status = 'confirmed' AND e.code LIKE 'HA-%'").splitlines()
stored = {}
for row in rows:
    stored[row] = stored.get(row, 0) + 1
missing = [attempt for attempt in committed if f"{attempt[0].split('/')[1]}|{attempt[1]}|{attempt[2]}" not in stored]
check(f"every booking a client saw confirmed is there after the failover ({len(committed)})", not missing, missing[:3])
check("no booking is there twice", all(count == 1 for count in stored.values()), [k for k, v in stored.items() if v > 1][:3])
over = psql("""
    SELECT coalesce(string_agg(e.code || ' at ' || p.at::text || ': ' || p.n || ' > ' || e.capacity, ', '), '')
    FROM environment e, LATERAL (
        SELECT lower(b.during) AS at, (SELECT count(*) FROM environment_booking o WHERE o.environment_id = e.id
                                       AND o.status = 'confirmed' AND o.during @> lower(b.during)) AS n
        FROM environment_booking b WHERE b.environment_id = e.id AND b.status = 'confirmed') AS p
    WHERE p.n > e.capacity""")
check("no environment over capacity at any instant", over == "", over)
state = psql(IMPORT_STATE)
check(f"the import cut off by the failover (exit {import_code}) exits 75", import_code == 75 or (import_code == 0 and state != empty_import),
      importer.stderr.read().strip()[-400:])
rerun = relplan(["import", csv], "ha_importer")
whole = psql(IMPORT_STATE)
check("the import's re-run completes", rerun.returncode == 0 and whole.split("/")[2] == "1", rerun.stderr[-400:])
check(f"the cut-off import left all or nothing (releases/units/batches {state}; empty {empty_import}, whole {whole})",
      state in (empty_import, whole))

say(f"{killed} rejoins as the secondary")
started = time.monotonic()
check("the killed node rejoins (pg_rewind) and the pair is whole again", restart_nodes(), states())
figure("time for the killed node to rejoin as secondary", f"{time.monotonic() - started:.1f} s")
primary = primary_node()
standby = next(name for name in NODES if name != primary)

# --- A write that reaches a standby ----------------------------------------------------------
write = relplan(["release", "create", "G01", "HA-STANDBY", "--plan", "HA-P"], "ha_booker",
                conninfo=f"host=127.0.0.1 port={NODES[standby]} dbname=ha_suite user=ha_booker")
check("a write on the standby (25006) exits 75 and says the session is read-only",
      write.returncode == 75 and "refused a write" in write.stderr and "read-only" in write.stderr, write.stderr)

# --- The nightly report: reads on the standby, history on the primary ------------------------
say("the nightly report with target_session_attrs=prefer-standby")
runs = lambda: int(psql("SELECT count(*) FROM report_run"))
before_runs = runs()
out = tempfile.mkdtemp(prefix="relplan-ha-report-")
nightly = relplan(["report", "nightly", "--out", out, "--verbose"], "ha_reporter", attrs="prefer-standby")
check("report nightly (prefer-standby) exits 0", nightly.returncode == 0, nightly.stderr[-600:])
check(f"its reads came from the standby ({standby}: pg_is_in_recovery() was true in the reading session)",
      f"reading from 127.0.0.1:{NODES[standby]} (pg_is_in_recovery = true" in nightly.stderr, nightly.stderr[-600:])
check(f"its history is on the primary ({primary})", f"history and lock on 127.0.0.1:{NODES[primary]}" in nightly.stderr
      and runs() == before_runs + 1, f"report_run {before_runs} → {runs()}")
# The nightly lock is a row lock (sql/0018) held by an open transaction of the run. It is taken
# with SKIP LOCKED, and the poll below takes it for an instant too: so the holder tries until it
# has it, and the poll gives up (and fails the suite) after 30 s instead of spinning for ever.
holder = subprocess.Popen(["psql", "-qAtX", "-d", url("ha_suite", "postgres"),
                           "-c", "BEGIN; DO $$ BEGIN WHILE NOT (SELECT got FROM relplan_nightly_lock()) LOOP "
                                 "PERFORM pg_sleep(0.05); END LOOP; END $$; SELECT pg_sleep(60); COMMIT"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=BASE_ENV, text=True)
held_by = time.monotonic() + 30
while psql("SELECT got FROM relplan_nightly_lock()") == "t":
    if time.monotonic() > held_by or holder.poll() is not None:
        holder.kill()
        check("a psql session holds the nightly lock within 30 s", False,
              (holder.communicate()[1] or "")[-600:])
        sys.exit(1)
    time.sleep(0.05)
second = relplan(["report", "nightly", "--out", out], "ha_reporter", attrs="prefer-standby")
psql("SELECT pg_terminate_backend(holder_pid) FROM relplan_nightly_lock() WHERE NOT got")
holder.wait()
check("a second nightly run while one holds the lock on the primary exits 75 naming the holder",
      second.returncode == 75 and "another nightly report is running, held by postgres" in second.stderr, second.stderr)

say(f"the standby ({standby}) down: the nightly report falls back to the primary")
kill_node(standby)
started = time.monotonic()
fallback = relplan(["report", "nightly", "--out", out, "--verbose"], "ha_reporter", attrs="prefer-standby", timeout=120)
figure("nightly report with the standby down (includes the wait until the monitor turns synchronous replication off)",
       f"{time.monotonic() - started:.1f} s")
check("report nightly with the standby down exits 0", fallback.returncode == 0, fallback.stderr[-600:])
check("it read from the primary", f"reading from 127.0.0.1:{NODES[primary]} (pg_is_in_recovery = false" in fallback.stderr,
      fallback.stderr[-600:])
check("and recorded its history there", runs() == before_runs + 2, runs())
check("the standby rejoins", restart_nodes(), states())

# --- schedule resolve --apply cut off by a failover ------------------------------------------
if args.resolve_trials:
    say(f"schedule resolve --apply cut off by a failover ({args.resolve_trials} trial(s), {args.resolve_releases:,} releases)")
    create_database("ha_resolve_template")
    relplan(["db", "migrate"], "postgres", database="ha_resolve_template")
    subprocess.run([BENCH, "seed", "--releases", str(args.resolve_releases), "--database-url", url("ha_resolve_template", "postgres")],
                   check=True, capture_output=True, env=BASE_ENV)
    psql("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ha_planner') THEN PERFORM relplan_create_user('ha_planner', NULL); END IF; END $$",
         "ha_resolve_template")
    psql("INSERT INTO membership (group_id, role_name, role) SELECT id, 'ha_planner', 'release-manager' FROM management_group "
         "ON CONFLICT DO NOTHING", "ha_resolve_template")
    PLACES = ("SELECT coalesce(md5(string_agg(r.id || ':' || coalesce(r.window_id::text, '-') || ':' || coalesce(r.deploy_start::text, '-'), ',' "
              "ORDER BY r.id)), '') || '/' || coalesce((SELECT md5(string_agg(id || ':' || during::text, ',' ORDER BY id)) FROM environment_booking), '') "
              "FROM release r")

    def fresh(name):
        create_database(name, "ha_resolve_template")

    fresh("ha_resolve_reference")
    before = psql(PLACES, "ha_resolve_reference")
    started = time.monotonic()
    reference = relplan(["schedule", "resolve", "--apply"], "ha_planner", database="ha_resolve_reference")
    apply_seconds = time.monotonic() - started
    after = psql(PLACES, "ha_resolve_reference")
    check(f"a full resolve --apply ({apply_seconds:.1f} s) moves releases", reference.returncode == 0 and after != before, reference.stderr[-300:])
    for trial in range(args.resolve_trials):
        fresh("ha_resolve_run")
        delay = rng.uniform(0.3, 0.9) * apply_seconds
        process = subprocess.Popen([RELPLAN, "schedule", "resolve", "--apply"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                   env=dict(BASE_ENV, RELPLAN_DATABASE_URL=url("ha_resolve_run", "ha_planner")))
        time.sleep(delay)
        victim = primary_node()
        kill_node(victim)
        code = process.wait()
        deadline = time.monotonic() + 120
        while relplan(["release", "list", "--format", "csv"], "ha_planner", database="ha_resolve_run").returncode != 0 and time.monotonic() < deadline:
            time.sleep(0.2)
        state = psql(PLACES, "ha_resolve_run")
        outcome = "none" if state == before else "all" if state == after else "PARTIAL"
        check(f"trial {trial}: {victim} killed {delay:.2f} s into the apply (exit {code}): {outcome} of the moves", outcome != "PARTIAL")
        check(f"trial {trial}: the cut-off apply exits 75 (or 0 having committed)", code == 75 or (code == 0 and outcome == "all"),
              process.stderr.read().strip()[-300:])
        if outcome == "none":
            again = relplan(["schedule", "resolve", "--apply"], "ha_planner", database="ha_resolve_run")
            check(f"trial {trial}: the re-run completes on the new primary", again.returncode == 0 and psql(PLACES, "ha_resolve_run") == after,
                  again.stderr[-300:])
        check(f"trial {trial}: the killed node rejoins", restart_nodes(), states())

print("\nfigures:")
for name, value in figures:
    print(f"  {name}: {value}")
print(f"\nha: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
