"""The benchmark driver behind scripts/bench: runs every figure the issues name beside its
baseline, prints a table (figure, value, baseline, ratio, target, pass/fail) and writes bench.json.

Times are wall-clock seconds, best of several runs where a run is cheap (the least disturbed by
the rest of a shared machine); ratios compare with a baseline measured in the same run."""
import argparse
import base64
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

parser = argparse.ArgumentParser()
parser.add_argument("--bin", required=True)
parser.add_argument("--root", required=True)
parser.add_argument("--quick", action="store_true")
args = parser.parse_args()

RELPLAN = os.path.join(args.bin, "relplan")
BENCH = os.path.join(args.bin, "relplan-bench")
QUICK = args.quick
SCALE = 10 if QUICK else 1
OUT = os.environ.get("BENCH_OUT", os.path.join(args.root, ".relplan"))
os.makedirs(OUT, exist_ok=True)
BASE_URL = os.environ.get("BENCH_DATABASE_URL", "")
figures = {}
rows = []  # (figure, value, baseline, ratio, target, ok)


def say(text):
    print(f"\033[1m==> {text}\033[0m", file=sys.stderr, flush=True)


def conninfo(database):
    return f"{BASE_URL} dbname={database}".strip()


def run(command, env=None, stdout=subprocess.DEVNULL, check=True):
    full_env = dict(os.environ)
    full_env.update(env or {})
    result = subprocess.run(command, env=full_env, stdout=stdout, stderr=subprocess.PIPE, text=True)
    if check and result.returncode != 0:
        sys.exit(f"bench: {' '.join(command)} failed ({result.returncode}): {result.stderr.strip()}")
    return result


def timed(command, env=None, repeat=1):
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        run(command, env)
        best = min(best, time.perf_counter() - start)
    return best


def psql(database, *sql):
    command = ["psql", "-qAtX", "-v", "ON_ERROR_STOP=1", "-d", conninfo(database)]
    for statement in sql:
        command += ["-c", statement]
    return run(command, stdout=subprocess.PIPE).stdout.strip()


def fresh_database(name):
    psql("postgres", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", f"CREATE DATABASE {name}")
    run([RELPLAN, "db", "migrate", "--database-url", conninfo(name)])


def record(figure, value, baseline=None, target=None, higher_is_better=False, unit=""):
    figures[figure] = round(value, 6)
    ratio = None
    if baseline:
        ratio = value / baseline
    ok = None
    if target is not None:
        ok = value >= target if higher_is_better else value <= target
    rows.append((figure, value, baseline, ratio, target, higher_is_better, ok, unit))


# --- Scheduling, in process --------------------------------------------------------------
say("scheduling: detection and resolution on generated snapshots")
sched = json.loads(run([BENCH, "scheduling"] + (["--quick"] if QUICK else []), stdout=subprocess.PIPE).stdout)
record("detect_500k_bookings_s", sched["detect_500k_bookings_s"], target=0.5 / SCALE if not QUICK else 0.5, unit="s")
record("detect_scaling_10x", sched["detect_scaling_10x"], target=12)
figures["detect_50k_s"] = sched.get("detect_50k_s")
figures["detect_5m_s"] = sched.get("detect_5m_s")
record("resolve_100k_s", sched["resolve_100k_s"], target=5, unit="s")

# --- The portfolio in a database --------------------------------------------------------
releases = 100_000 // SCALE
say(f"seeding a database with {releases} releases")
fresh_database("relplan_bench")
seed = json.loads(run([BENCH, "seed", "--releases", str(releases), "--database-url", conninfo("relplan_bench")],
                      stdout=subprocess.PIPE).stdout)
figures["bench_releases"] = seed["releases"]
figures["bench_bookings"] = seed["bookings"]
env = {"RELPLAN_DATABASE_URL": conninfo("relplan_bench")}

say("relplan conflicts end to end, beside psql copying the same rows out")
copy_out = timed(["psql", "-qX", "-d", conninfo("relplan_bench"),
                  "-c", "\\copy (SELECT r.id, g.code, r.code, r.priority, r.status, r.pinned, r.window_id, r.deploy_start, r.deploy_end, r.deadline, r.implementer, p.model_id FROM release r JOIN management_group g ON g.id = r.group_id JOIN release_plan p ON p.id = r.plan_id) TO '/dev/null'",
                  "-c", "\\copy (SELECT id, release_id, environment_id, lower(during), upper(during), status FROM environment_booking) TO '/dev/null'",
                  "-c", "\\copy (SELECT DISTINCT p.release_id, u.target_code FROM release_unit u JOIN release_package p ON p.id = u.package_id) TO '/dev/null'",
                  "-c", "\\copy (SELECT release_id, depends_on_id FROM release_dependency) TO '/dev/null'"], repeat=3)
conflicts = timed([RELPLAN, "conflicts", "--format", "json"], env, repeat=3)
record("conflicts_s", conflicts, unit="s")
record("conflicts_vs_copyout_ratio", conflicts / copy_out, baseline=None, target=2)
figures["copyout_s"] = round(copy_out, 6)

say("the nightly report, beside relplan conflicts --format json")
# As the nightly job's own login (relplan_reporter), as in production.
psql("relplan_bench", "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'bench_reporter') "
                      "THEN PERFORM relplan_create_user('bench_reporter', NULL); END IF; END $$",
     "SELECT relplan_grant_reporter('bench_reporter')")
reporter_env = {"RELPLAN_DATABASE_URL": conninfo("relplan_bench") + " user=bench_reporter"}
with tempfile.TemporaryDirectory() as folder:
    run([RELPLAN, "report", "nightly", "--out", folder], reporter_env)  # the first run records every conflict as new
    report = timed([RELPLAN, "report", "nightly", "--out", folder], reporter_env, repeat=2)
record("report_s", report, unit="s")
record("report_vs_conflicts_ratio", report / conflicts, target=3)

say("relplan release show: process start to exit, median of 20, beside psql -c of one query")
sample = psql("relplan_bench", "SELECT g.code || '/' || r.code FROM release r JOIN management_group g ON g.id = r.group_id ORDER BY r.id LIMIT 1")
def median_ms(command, env=None):
    samples = []
    for _ in range(20):
        start = time.perf_counter()
        run(command, env)
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)
show = median_ms([RELPLAN, "release", "show", sample], env)
psql_one = median_ms(["psql", "-qAtX", "-d", conninfo("relplan_bench"), "-c", "SELECT title FROM release WHERE id = 1"])
record("cli_show_median_ms", show, baseline=psql_one, target=50, unit="ms")

say("booking confirmations: 8 clients on the same few environments, as the CLI books and as a bare INSERT")
confirm = {}
for path in ("statement", "product"):
    confirm.update(json.loads(run([BENCH, "confirm", "--database-url", conninfo("relplan_bench"), "--clients", "8",
                                   "--seconds", "2" if QUICK else "5", "--path", path], stdout=subprocess.PIPE).stdout))
record("booking_confirm_tps", confirm["booking_confirm_tps"], baseline=confirm["booking_statement_tps"],
       target=4000, higher_is_better=True, unit="/s")
for prefix in ("booking_confirm", "booking_statement"):
    overbooked = confirm[f"{prefix}_overbooked_instants"]
    figures[f"{prefix}_overbooked_instants"] = overbooked
    if overbooked != 0:
        rows.append((f"{prefix}_overbooked_instants", overbooked, None, None, 0, False, False, ""))

# --- The server --------------------------------------------------------------------------
# `relplan serve` on the same database, eight people with passwords (release managers of every
# group, as the booking clients are), warm connections: HTTP Basic on every request.
say("relplan serve: warm GET /api/conflicts beside the CLI; wrk on a release's page of the API; bookings over HTTP")
people = [f"bench_person_{i}" for i in range(1, 9)]
password = "bench-lösen-å"
psql("relplan_bench", "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'relplan_password_login') "
                      "THEN CREATE ROLE relplan_password_login NOLOGIN; END IF; END $$")
for person in people:
    psql("relplan_bench",
         f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{person}') "
         f"THEN PERFORM relplan_create_user('{person}', NULL); END IF; END $$",
         f"ALTER ROLE {person} PASSWORD '{password}'",
         f"GRANT relplan_password_login TO {person}",
         f"INSERT INTO membership (group_id, role_name, role) SELECT id, '{person}', 'release-manager' "
         "FROM management_group ON CONFLICT DO NOTHING")
with socket.socket() as probe:
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
base = f"http://127.0.0.1:{port}"
server = subprocess.Popen([RELPLAN, "serve", "--listen", f"127.0.0.1:{port}", "--database-url", conninfo("relplan_bench")],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def basic(person):
    return "Basic " + base64.b64encode(f"{person}:{password}".encode()).decode()


def get(path, person):
    request = urllib.request.Request(base + urllib.parse.quote(path, safe="/?=&"), headers={"Authorization": basic(person)})
    with urllib.request.urlopen(request, timeout=120) as reply:
        return reply.status, reply.read()


def wrk(script, connections, seconds):
    result = run(["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--latency", "-s", script, base],
                 stdout=subprocess.PIPE)
    return json.loads(result.stdout.strip().splitlines()[-1])


try:
    for _ in range(100):
        try:
            if get("/healthz", people[0])[0] == 200:
                break
        except OSError:
            time.sleep(0.1)
    else:
        sys.exit(f"bench: relplan serve did not answer /healthz: {server.stderr.read() if server.poll() is not None else ''}")
    status, body = get("/api/conflicts", people[0])  # the first: connections opened, caches warm
    if status != 200 or len(json.loads(body).get("conflicts", [])) == 0:
        sys.exit(f"bench: GET /api/conflicts answered {status} with no conflicts")
    served = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        get("/api/conflicts", people[0])
        served = min(served, time.perf_counter() - start)
    record("serve_conflicts_s", served, unit="s")
    record("serve_conflicts_vs_cli_ratio", served / conflicts, target=0.5)

    refs = psql("relplan_bench", "SELECT g.code || '/' || r.code FROM release r JOIN management_group g ON g.id = r.group_id "
                                 "ORDER BY r.id LIMIT 1000").split("\n")
    with tempfile.TemporaryDirectory() as folder:
        # Every answer is counted by status; anything but 200 (or 409 for a taken booking) fails the figure.
        common = """
local people = {%s}
local counts = {}
local n = 0
function setup(thread) table.insert(threads, thread) end
threads = {}
function init(args) statuses = {} end
function response(status, headers, body) statuses[status] = (statuses[status] or 0) + 1 end
function done(summary, latency, requests)
  local merged = {}
  for _, t in ipairs(threads) do
    for status, count in pairs(t:get("statuses")) do merged[status] = (merged[status] or 0) + count end
  end
  local parts = {}
  for status, count in pairs(merged) do table.insert(parts, string.format('"%%d": %%d', status, count)) end
  io.write(string.format('{"requests_per_s": %%f, "p99_ms": %%f, "socket_errors": %%d, "statuses": {%%s}}\\n',
    summary.requests / (summary.duration / 1e6), latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, table.concat(parts, ", ")))
end
""" % ", ".join(f'"{basic(p)}"' for p in people)
        reads = os.path.join(folder, "reads.lua")
        with open(reads, "w") as handle:
            handle.write(common + """
local refs = {%s}
function request()
  n = n + 1
  local ref = refs[math.random(#refs)]
  return wrk.format("GET", "/api/releases/" .. ref, {Authorization = people[(n %% #people) + 1]})
end
""" % ", ".join(f'"{urllib.parse.quote(r)}"' for r in refs))
        wrk(reads, 32, 2)  # warm: every person's pool open
        read = wrk(reads, 32, 3 if QUICK else 10)
        bad = {k: v for k, v in read["statuses"].items() if k != "200"}
        if bad or read["socket_errors"]:
            sys.exit(f"bench: wrk reads answered {bad}, {read['socket_errors']} socket errors")
        record("serve_read_rps", read["requests_per_s"], target=2000, higher_is_better=True, unit="/s")
        record("serve_read_p99_ms", read["p99_ms"], target=50, unit="ms")

        books = os.path.join(folder, "books.lua")
        with open(books, "w") as handle:
            handle.write(common + """
local refs = {%s}
local base = 2000000000
function request()
  n = n + 1
  local start = base + math.random(0, 24 * 365 * 4) * 900
  local body = string.format('{"environment": "BENCH-ENV-%%d", "start": "%%s", "end": "%%s", "confirm": true}',
    math.random(1, 4), os.date("!%%Y-%%m-%%dT%%H:%%M:%%SZ", start), os.date("!%%Y-%%m-%%dT%%H:%%M:%%SZ", start + 3600))
  return wrk.format("POST", "/api/releases/" .. refs[math.random(#refs)] .. "/book",
    {Authorization = people[(n %% #people) + 1], ["Content-Type"] = "application/json"}, body)
end
""" % ", ".join(f'"{urllib.parse.quote(r)}"' for r in refs))
        booked = wrk(books, 8, 2 if QUICK else 5)
        bad = {k: v for k, v in booked["statuses"].items() if k not in ("200", "409")}
        if bad or booked["socket_errors"]:
            sys.exit(f"bench: wrk bookings answered {bad}, {booked['socket_errors']} socket errors")
        record("serve_booking_tps", booked["requests_per_s"], baseline=confirm["booking_confirm_tps"], unit="/s")
        record("serve_booking_vs_confirm_ratio", booked["requests_per_s"] / confirm["booking_confirm_tps"],
               target=0.8, higher_is_better=True)
    overbooked = int(psql("relplan_bench", """
        SELECT count(*) FROM environment e JOIN environment_booking b ON b.environment_id = e.id AND b.status = 'confirmed'
        WHERE e.code LIKE 'BENCH-ENV-%' AND (SELECT count(*) FROM environment_booking o WHERE o.environment_id = e.id
          AND o.status = 'confirmed' AND o.during @> lower(b.during)) > e.capacity"""))
    figures["serve_booking_overbooked_instants"] = overbooked
    if overbooked:
        rows.append(("serve_booking_overbooked_instants", overbooked, None, None, 0, False, False, ""))
finally:
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()

# --- The importer ------------------------------------------------------------------------
gen = os.path.join(args.root, "scripts", "gen-import-csv")
seed_sql = os.path.join(args.root, "scripts", "bench-seed.sql")
import_rows = 1_000_000 // SCALE
with tempfile.TemporaryDirectory() as folder:
    big = os.path.join(folder, "big.csv")
    small = os.path.join(folder, "small.csv")
    say(f"importer: generating {import_rows} rows")
    run([gen, str(import_rows), str(import_rows // 10), big])
    run([gen, "10000", "1000", small])

    def import_database():
        fresh_database("relplan_bench_import")
        run(["psql", "-qX", "-v", "ON_ERROR_STOP=1", "-d", conninfo("relplan_bench_import"), "-f", seed_sql])
        # The importer runs as an ordinary login, under the policies, as a release manager would.
        psql("relplan_bench_import", "SELECT relplan_create_user('bench_importer', NULL)",
             "INSERT INTO membership (group_id, role_name, role) SELECT id, 'bench_importer', 'release-manager' FROM management_group "
             "ON CONFLICT DO NOTHING")
        return {"RELPLAN_DATABASE_URL": conninfo("relplan_bench_import") + " user=bench_importer"}

    say("baseline: psql \\copy of the same file into an unlogged table of text columns")
    header = open(big, encoding="utf-8-sig").readline().strip().split(",")
    columns = ", ".join(f'"c{i}" text' for i in range(len(header)))
    psql("relplan_bench", "DROP TABLE IF EXISTS copy_baseline", f"CREATE UNLOGGED TABLE copy_baseline ({columns})")
    copy_in = float("inf")
    for _ in range(2):
        psql("relplan_bench", "TRUNCATE copy_baseline")
        start = time.perf_counter()
        run(["psql", "-qX", "-d", conninfo("relplan_bench"), "-c", f"\\copy copy_baseline FROM '{big}' CSV HEADER"])
        copy_in = min(copy_in, time.perf_counter() - start)
    figures["copy_baseline_s"] = round(copy_in, 6)

    say("relplan import into an empty database, then again (nothing changes)")
    import_env = import_database()
    start = time.perf_counter()
    result = run(["/usr/bin/time", "-f", "%M", RELPLAN, "import", big], import_env, stdout=subprocess.PIPE)
    first = time.perf_counter() - start
    peak_kb = int(result.stderr.strip().splitlines()[-1])
    start = time.perf_counter()
    run([RELPLAN, "import", big], import_env)
    again = time.perf_counter() - start
    record("import_rows_per_s", import_rows / first, target=100_000, higher_is_better=True, unit="/s")
    record("import_vs_copy_ratio", first / copy_in, target=10)
    record("reimport_vs_copy_ratio", again / copy_in, target=5)
    record("import_peak_rss_mb", peak_kb / 1024, target=200, unit="MB")

    say("a 10,000-row file, process start to exit")
    small_env = import_database()
    record("import_10k_wall_s", timed([RELPLAN, "import", small], small_env), target=1.5, unit="s")

# --- The table and bench.json ------------------------------------------------------------
def fmt(value, unit=""):
    if value is None:
        return ""
    if abs(value) >= 1000:
        return f"{value:,.0f}{unit}"
    return f"{value:.3g}{unit}"

machine = f"{platform.node()}: {os.cpu_count()} cores, {platform.machine()}, {platform.system()} {platform.release()}"
print(f"\nrelplan benchmarks ({'quick: a tenth of the sizes' if QUICK else 'full sizes'}) on {machine}\n")
print(f"{'figure':<28} {'value':>12} {'baseline':>10} {'ratio':>8} {'target':>10}  result")
failed = []
for figure, value, baseline, ratio, target, higher, ok, unit in rows:
    target_text = "" if target is None else (">= " if higher else "<= ") + fmt(target)
    result = "" if ok is None else ("pass" if ok else "FAIL")
    if ok is False:
        failed.append(figure)
    print(f"{figure:<28} {fmt(value, unit):>12} {fmt(baseline):>10} {fmt(ratio):>8} {target_text:>10}  {result}")
path = os.path.join(OUT, "bench.json")
with open(path, "w") as handle:
    json.dump({k: v for k, v in sorted(figures.items()) if v is not None}, handle, indent=2)
print(f"\nwrote {path}")
if failed:
    print(f"not met: {', '.join(failed)}")
