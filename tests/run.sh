#!/usr/bin/env bash
# Set this machine up for the test suite (idempotent, seconds when nothing is missing) and run it.
#   bash tests/run.sh [pytest arguments]
# Installs what the tests start for real: the Python package and its extras into .venv,
# PostgreSQL and Chromium from Debian, and the Node puppet service under tests/puppet.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf '==> %s\n' "$*" >&2; }
die() {
	printf 'tests/run.sh: %s\n' "$*" >&2
	exit 1
}

# Run a command as root: directly, through sudo, or not at all.
as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		die "need root (or sudo) to run: $*"
	fi
}

# apt-get update at most once per run, and only when something must be installed.
apt_updated=0
apt_install() {
	command -v apt-get >/dev/null 2>&1 || die "no apt-get: install $* by hand (this script knows Debian)"
	# Wait for a concurrent apt/dpkg (another engineer's run) instead of failing at once.
	local apt=(env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 -q)
	if [ "$apt_updated" -eq 0 ]; then
		say "updating Debian package lists"
		as_root "${apt[@]}" update >&2
		apt_updated=1
	fi
	as_root "${apt[@]}" install -y --no-install-recommends "$@" >&2
}

# --- Python: .venv with the package and its test extras --------------------------------------
if [ ! -x .venv/bin/python ]; then
	command -v python3 >/dev/null 2>&1 || die "python3 not found (3.11 or newer is needed)"
	python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
		die "python3 is $(python3 -V 2>&1); 3.11 or newer is needed"
	# Debian's python3 lacks venv/ensurepip until python3-venv is installed.
	if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
		say "installing python3-venv (Debian)"
		apt_install python3-venv
	fi
	say "creating .venv"
	python3 -m venv .venv
fi

# Two runs in one checkout must not install into the same venv at once.
if command -v flock >/dev/null 2>&1; then
	exec 9>.venv/.jinlin-setup.lock
	flock 9
fi

extras='.[test,wechat,web]'
constraints=()
[ -f constraints.txt ] && constraints=(-c constraints.txt)
# Reinstall only when what pip would read changed: an editable install still builds a wheel.
stamp=.venv/.jinlin-installed
want="$extras $({
	cat pyproject.toml
	[ ! -f constraints.txt ] || cat constraints.txt
} | sha256sum | cut -d' ' -f1)"
if [ ! -x .venv/bin/pytest ] || [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
	say "installing the Python package and extras into .venv"
	rm -f "$stamp"
	.venv/bin/python -m pip install -q --disable-pip-version-check -e "$extras" "${constraints[@]}" >&2
	printf '%s\n' "$want" >"$stamp"
fi

# --- deploy/ checks: the compose-spec JSON schema and systemd-analyze ------------------------
# The schema comes out of docker-compose 1.29.2's wheel (downloaded, never installed: its
# dependencies clash with ours); tests/test_deploy.py validates deploy/docker-compose.yml with it.
compose_schema=.venv/share/jinlin/compose_spec.json
if [ ! -f "$compose_schema" ]; then
	say "fetching the compose-spec JSON schema (docker-compose 1.29.2 wheel, from PyPI)"
	wheels=$(mktemp -d)
	.venv/bin/python -m pip download -q --no-deps --disable-pip-version-check -d "$wheels" \
		docker-compose==1.29.2 >&2
	mkdir -p "$(dirname "$compose_schema")"
	.venv/bin/python - "$wheels"/docker_compose-1.29.2-*.whl "$compose_schema" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel:
    data = wheel.read("compose/config/compose_spec.json")
with open(sys.argv[2], "wb") as out:
    out.write(data)
PY
	rm -rf "$wheels"
fi
if ! command -v systemd-analyze >/dev/null 2>&1; then
	say "installing systemd (for systemd-analyze verify of deploy/systemd)"
	apt_install systemd
fi

# --- PostgreSQL: the pg_server_url fixture runs initdb/pg_ctl from here ----------------------
if ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
	say "installing PostgreSQL (Debian)"
	apt_install postgresql
fi

# --- Chromium: Playwright drives Debian's build; it never downloads a browser ----------------
if ! command -v chromium >/dev/null 2>&1; then
	say "installing Chromium (Debian)"
	apt_install chromium
fi

# Chinese text in the browser tests' screenshots needs a CJK font (the tests pass without one).
if command -v fc-list >/dev/null 2>&1 && [ -z "$(fc-list :lang=zh 2>/dev/null | head -n 1)" ]; then
	say "installing a Chinese font for Chromium (Debian)"
	apt_install fonts-wqy-zenhei
fi

# --- Node: the Wechaty puppet service the end-to-end tests start -----------------------------
puppet=tests/puppet
if [ -f "$puppet/package.json" ]; then
	lock="$puppet/package-lock.json"
	if [ ! -d "$puppet/node_modules" ] || { [ -f "$lock" ] && [ "$lock" -nt "$puppet/node_modules" ]; }; then
		command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 ||
			die "node and npm are needed for $puppet (Node 20: apt-get install nodejs npm)"
		say "installing Node packages ($puppet)"
		if [ -f "$lock" ]; then
			(cd "$puppet" && npm ci --no-audit --no-fund >&2)
		else
			(cd "$puppet" && npm install --no-audit --no-fund >&2)
		fi
		# npm may leave the folder's mtime alone; the check above compares against it.
		touch "$puppet/node_modules"
	fi
fi

exec 9>&-
exec .venv/bin/pytest -q "$@"
