"""The crash half of the fault suite (scripts/faults): every trial must leave all or nothing.

Trials are seeded, so a failure names a trial that can be run again."""
import argparse
import json
import os
import random
import signal
import subprocess
import sys
import time

parser = argparse.ArgumentParser()
parser.add_argument("--bin", required=True)
parser.add_argument("--root", required=True)
parser.add_argument("--trials", type=int, default=5)
parser.add_argument("--import-rows", type=int, default=20_000, help="size of the file the importer trials kill (300000: the large case)")
args = parser.parse_args()
RELPLAN = os.path.join(args.bin, "relplan")
BENCH = os.path.join(args.bin, "relplan-bench")
rng = random.Random(20261126)
passed = failed = 0


def say(text):
    print(f"\033[1m==> {text}\033[0m", file=sys.stderr, flush=True)


def psql(database, sql):
    return subprocess.run(["psql", "-qAtX", "-v", "ON_ERROR_STOP=1", "-d", database, "-c", sql],
                          check=True, capture_output=True, text=True).stdout.strip()


def server(action):
    command = ["runuser", "-u", os.environ["CLUSTER_USER"], "--"] if os.geteuid() == 0 else []
    command += [os.environ["PG_CTL"], "-D", os.environ["PGDATA_DIR"], "-w"]
    if action == "crash":
        command += ["-m", "immediate", "stop"]
    else:
        sock = os.environ["PGHOST"]
        command += ["-l", os.path.join(os.path.dirname(os.environ["PGDATA_DIR"]), "server.log"),
                    "-o", f"-k {sock} -p {os.environ['PGPORT']} -c listen_addresses='' -c fsync=off", "start"]
    # From "/": the cluster user may not be able to enter the checkout (runuser keeps the cwd).
    subprocess.run(command, check=True, capture_output=True, cwd="/")


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"  ok    {name}")
    else:
        failed += 1
        print(f"  FAIL  {name}: {detail}")


# --- A portfolio to resolve, kept as a template ---------------------------------------------
say("seeding a portfolio of 20,000 releases")
psql("postgres", "DROP DATABASE IF EXISTS faults_template")
psql("postgres", "CREATE DATABASE faults_template")
subprocess.run([RELPLAN, "db", "migrate", "--database-url", "dbname=faults_template"], check=True, capture_output=True)
subprocess.run([BENCH, "seed", "--releases", "20000", "--database-url", "dbname=faults_template"], check=True, capture_output=True)
psql("faults_template", "SELECT relplan_create_user('fault_planner', NULL)")
psql("faults_template", "INSERT INTO membership (group_id, role_name, role) SELECT id, 'fault_planner', 'release-manager' "
                        "FROM management_group ON CONFLICT DO NOTHING")

PLACES = "SELECT coalesce(string_agg(r.id || ':' || coalesce(r.window_id::text, '-') || ':' || coalesce(r.deploy_start::text, '-'), ',' ORDER BY r.id), '') FROM release r"
BOOKINGS = "SELECT coalesce(md5(string_agg(id || ':' || during::text, ',' ORDER BY id)), '') FROM environment_booking"


def fresh(name):
    psql("postgres", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    psql("postgres", f"CREATE DATABASE {name} TEMPLATE faults_template")


# The state after a complete apply, to compare crashed runs with.
fresh("faults_reference")
before = (psql("faults_reference", PLACES), psql("faults_reference", BOOKINGS))
started = time.perf_counter()
subprocess.run([RELPLAN, "schedule", "resolve", "--apply", "--format", "json"], check=True, capture_output=True,
               env=dict(os.environ, RELPLAN_DATABASE_URL="dbname=faults_reference user=fault_planner"))
apply_seconds = time.perf_counter() - started
after = (psql("faults_reference", PLACES), psql("faults_reference", BOOKINGS))
moved = sum(1 for a, b in zip(before[0].split(","), after[0].split(",")) if a != b)
say(f"a full resolve --apply takes {apply_seconds:.2f} s and moves {moved} releases")

say(f"server stopped (-m immediate) during schedule resolve --apply, {args.trials} seeded trials")
for trial in range(args.trials):
    fresh("faults_run")
    delay = rng.uniform(0.1, 0.95) * apply_seconds
    process = subprocess.Popen([RELPLAN, "schedule", "resolve", "--apply"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               env=dict(os.environ, RELPLAN_DATABASE_URL="dbname=faults_run user=fault_planner"))
    time.sleep(delay)
    server("crash")
    code = process.wait()
    stderr = process.stderr.read().decode(errors='replace').strip()
    server("start")
    state = (psql("faults_run", PLACES), psql("faults_run", BOOKINGS))
    outcome = "none" if state == before else "all" if state == after else "PARTIAL"
    check(f"trial {trial}: crash after {delay:.2f} s (exit {code}): {outcome} of the moves", outcome != "PARTIAL",
          "some moves survived without the others")
    check(f"trial {trial}: a clean exit code", code in (69, 75) or (code == 0 and outcome == "all"),
          f"exit {code}: {stderr}")
    # A message that says nothing was committed must be true (a crash during COMMIT may have committed).
    check(f"trial {trial}: what the message says was committed is so",
          outcome == "none" or "nothing was committed" not in stderr, stderr)
    if outcome == "none":
        rerun = subprocess.run([RELPLAN, "schedule", "resolve", "--apply"], capture_output=True, text=True,
                               env=dict(os.environ, RELPLAN_DATABASE_URL="dbname=faults_run user=fault_planner"))
        check(f"trial {trial}: the re-run completes", rerun.returncode == 0 and
              (psql("faults_run", PLACES), psql("faults_run", BOOKINGS)) == after, rerun.stderr.strip())

# --- The importer killed with SIGKILL ------------------------------------------------------
gen = os.path.join(args.root, "scripts", "gen-import-csv")
seed_sql = os.path.join(args.root, "scripts", "bench-seed.sql")
if os.path.exists(gen) and os.path.exists(seed_sql):
    say(f"the importer killed with SIGKILL at 10 seeded points of a {args.import_rows:,}-row import")
    csv = os.path.join(args.root, ".relplan", "faults-import.csv")
    subprocess.run([gen, str(args.import_rows), str(max(args.import_rows // 10, 1)), csv], check=True)
    psql("postgres", "DROP DATABASE IF EXISTS faults_import WITH (FORCE)")
    psql("postgres", "CREATE DATABASE faults_import")
    subprocess.run([RELPLAN, "db", "migrate", "--database-url", "dbname=faults_import"], check=True, capture_output=True)
    subprocess.run(["psql", "-qX", "-v", "ON_ERROR_STOP=1", "-d", "faults_import", "-f", seed_sql], check=True, capture_output=True)
    psql("faults_import", "SELECT relplan_create_user('fault_importer', NULL)")
    psql("faults_import", "INSERT INTO membership (group_id, role_name, role) SELECT id, 'fault_importer', 'release-manager' "
                          "FROM management_group ON CONFLICT DO NOTHING")
    env = dict(os.environ, RELPLAN_DATABASE_URL="dbname=faults_import user=fault_importer")
    started = time.perf_counter()
    probe = subprocess.Popen([RELPLAN, "import", csv, "--dry-run"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    probe.wait()
    import_seconds = max(time.perf_counter() - started, 0.5)
    COUNT = "SELECT (SELECT count(*) FROM release) || '/' || (SELECT count(*) FROM environment_booking) || '/' || (SELECT count(*) FROM import_batch)"
    empty = psql("faults_import", COUNT)
    for point in range(10):
        delay = rng.uniform(0.05, 0.95) * import_seconds
        process = subprocess.Popen([RELPLAN, "import", csv], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()
        state = psql("faults_import", COUNT)
        if state != empty:  # the import finished before the kill: start from empty again
            check(f"kill at {delay:.2f} s: the import had finished; it is whole", state.split("/")[2] == "1", state)
            psql("faults_import", "TRUNCATE release_dependency, environment_booking, release_unit, release_package, release, release_plan, import_batch CASCADE")
            empty = psql("faults_import", COUNT)
        else:
            check(f"kill at {delay:.2f} s: nothing of the batch was written", True)
    # Straight after the kills, as a person would re-run it: the dead rows of ten killed imports
    # are still there (no VACUUM), and killed sessions must not hold the re-run up. Ten killed
    # 300,000-row imports once made the re-run crawl for many minutes (README, Reliability).
    started = time.perf_counter()
    try:
        rerun = subprocess.run([RELPLAN, "import", csv], capture_output=True, text=True, env=env, timeout=600)
    except subprocess.TimeoutExpired:
        rerun = subprocess.CompletedProcess([], 124, "", "the re-run took over 10 minutes")
    rerun_seconds = time.perf_counter() - started
    check(f"the re-run takes about as long as a first import ({rerun_seconds:.1f} s; the dry run took {import_seconds:.1f} s)",
          rerun_seconds <= 3 * import_seconds + 5, rerun.stderr.strip())
    check("a re-run after the kills imports the whole file", rerun.returncode == 0 and psql("faults_import", COUNT) != empty,
          rerun.stderr.strip())
else:
    check("importer fault trials", False, "scripts/gen-import-csv or scripts/bench-seed.sql is missing")

print(f"\nfaults: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
