# Shared set-up for scripts/up and scripts/test (sourced, not run).
#
# Everything here is idempotent: each step checks what is already there and does only what is
# missing or stale. The expensive parts (the bench, the sites) live outside the checkout, under
# $CRM_POOL_HOME, and are reused across runs and clones.
#
# Settings (environment variables, all optional):
#   CRM_POOL_USER          ordinary user that owns the bench when run as root (default: crmpool)
#   CRM_POOL_HOME          where the bench and its tools live (default: ~CRM_POOL_USER/crm-pool)
#   CRM_POOL_DB_ADMIN_USER / CRM_POOL_DB_ADMIN_PASSWORD
#                          MariaDB account allowed to create databases (created when missing)
#   CRM_POOL_REDIS         Redis URL for cache, queue and socketio (default: redis://127.0.0.1:6379)
#   CRM_POOL_FRAPPE_URL / CRM_POOL_ERPNEXT_URL   upstream git URLs (default: the official ones)

set -euo pipefail

APP_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Bump when the bench layout or its pinned inputs change: cached benches with another value are rebuilt.
STACK_VERSION="1 frappe-bench==5.31.1 setuptools<81"
BENCH_CLI_REQ="frappe-bench==5.31.1"
BRANCH=version-15
FRAPPE_URL=${CRM_POOL_FRAPPE_URL:-https://github.com/frappe/frappe}
ERPNEXT_URL=${CRM_POOL_ERPNEXT_URL:-https://github.com/frappe/erpnext}
REDIS_URL=${CRM_POOL_REDIS:-redis://127.0.0.1:6379}
DB_ADMIN_USER=${CRM_POOL_DB_ADMIN_USER:-crm_pool_admin}
DB_ADMIN_PASSWORD=${CRM_POOL_DB_ADMIN_PASSWORD:-crm_pool_admin}
ADMIN_PASSWORD=${CRM_POOL_ADMIN_PASSWORD:-admin}

log() { printf '\033[1;34m[crm_pool]\033[0m %s\n' "$*" >&2; }
die() {
	printf '\033[1;31m[crm_pool] error:\033[0m %s\n' "$*" >&2
	exit 1
}
elapsed() { echo "$((SECONDS - ${1:-0}))s"; }

is_root() { [[ $(id -u) == 0 ]]; }

# Run a command as root: directly when we are root, else through passwordless sudo.
as_root() {
	if is_root; then
		"$@"
	elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
		sudo -n "$@"
	else
		die "this step needs root (or passwordless sudo): $*"
	fi
}

# --- system packages -----------------------------------------------------------------------------

APT_UPDATED=""
apt_install() {
	[[ $# -gt 0 ]] || return 0
	command -v apt-get >/dev/null || die "missing $*, and this is not a Debian-like system: install them by hand"
	log "installing system packages: $*"
	if [[ -z $APT_UPDATED ]]; then
		as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null || die "apt-get update failed"
		APT_UPDATED=1
	fi
	# Packages start their services when installed (nginx on port 80, a system supervisord): these
	# scripts start what they need themselves, so a policy-rc.d refuses those starts (Docker images
	# ship the same file), removed afterwards when it was ours.
	local policy=/usr/sbin/policy-rc.d ours=0
	if [[ ! -e $policy ]]; then
		printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null && as_root chmod 755 "$policy" && ours=1
	fi
	local rc=0
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null || rc=$?
	((ours == 0)) || as_root rm -f "$policy"
	((rc == 0)) || die "could not install system packages: $*"
}

# ensure_system [extra debian packages...]: everything bench needs, installed when missing.
ensure_system() {
	local pkgs=("$@") py=/usr/bin/python3
	command -v mariadb >/dev/null || command -v mysql >/dev/null || pkgs+=(mariadb-server mariadb-client)
	[[ -x /usr/sbin/mariadbd || -x /usr/sbin/mysqld ]] || pkgs+=(mariadb-server)
	command -v redis-server >/dev/null || pkgs+=(redis-server)
	command -v crontab >/dev/null || pkgs+=(cron)
	command -v git >/dev/null || pkgs+=(git)
	command -v rsync >/dev/null || pkgs+=(rsync)
	command -v gcc >/dev/null || pkgs+=(build-essential)
	command -v pkg-config >/dev/null || pkgs+=(pkg-config)
	command -v node >/dev/null || pkgs+=(nodejs npm)
	[[ -x $py ]] || pkgs+=(python3)
	[[ -x $py ]] && $py -c 'import ensurepip, venv' 2>/dev/null || pkgs+=(python3-venv)
	[[ -x $py ]] && [[ -f "$($py -c 'import sysconfig; print(sysconfig.get_paths()["include"])' 2>/dev/null)/Python.h" ]] ||
		pkgs+=(python3-dev)
	local missing=() p
	for p in $(printf '%s\n' "${pkgs[@]}" | sort -u); do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	apt_install "${missing[@]}"

	local pyver
	pyver=$($py -c 'import sys; print("%d%02d" % sys.version_info[:2])')
	((pyver >= 310)) || die "Frappe v15 needs Python >= 3.10; $py is older"
	local nodever
	nodever=$(node -p 'process.versions.node.split(".")[0]')
	((nodever >= 18)) || die "Frappe v15 needs Node.js >= 18; found $(node --version)"
	if ! yarn --version 2>/dev/null | grep -q '^1\.'; then
		log "installing yarn 1.x"
		as_root npm install -g --silent yarn@1.22.22 >/dev/null 2>&1 || die "could not install yarn 1.x with npm"
	fi
}

# --- services ------------------------------------------------------------------------------------

mariadb_alive() { mysqladmin ping --silent >/dev/null 2>&1 || as_root mysqladmin ping --silent >/dev/null 2>&1; }

ensure_mariadb() {
	if ! mariadb_alive; then
		log "starting MariaDB"
		as_root service mariadb start >/dev/null 2>&1 ||
			as_root start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd >/dev/null 2>&1 || true
		for _ in $(seq 60); do mariadb_alive && break || sleep 0.5; done
		mariadb_alive || die "MariaDB is not running and could not be started (see /var/log/mysql/)"
	fi
	# A dedicated admin account for `bench new-site` (root may only log in over the socket).
	if ! mysql -h127.0.0.1 -u"$DB_ADMIN_USER" -p"$DB_ADMIN_PASSWORD" -e 'select 1' >/dev/null 2>&1; then
		log "creating MariaDB admin account $DB_ADMIN_USER"
		local sql
		sql="CREATE USER IF NOT EXISTS '$DB_ADMIN_USER'@'%' IDENTIFIED BY '$DB_ADMIN_PASSWORD';
			CREATE USER IF NOT EXISTS '$DB_ADMIN_USER'@'localhost' IDENTIFIED BY '$DB_ADMIN_PASSWORD';
			ALTER USER '$DB_ADMIN_USER'@'%' IDENTIFIED BY '$DB_ADMIN_PASSWORD';
			ALTER USER '$DB_ADMIN_USER'@'localhost' IDENTIFIED BY '$DB_ADMIN_PASSWORD';
			GRANT ALL PRIVILEGES ON *.* TO '$DB_ADMIN_USER'@'%' WITH GRANT OPTION;
			GRANT ALL PRIVILEGES ON *.* TO '$DB_ADMIN_USER'@'localhost' WITH GRANT OPTION;
			FLUSH PRIVILEGES;"
		as_root mysql -uroot -e "$sql" 2>/dev/null ||
			die "cannot create the MariaDB admin account: set CRM_POOL_DB_ADMIN_USER and CRM_POOL_DB_ADMIN_PASSWORD to an account with ALL PRIVILEGES ... WITH GRANT OPTION"
		mysql -h127.0.0.1 -u"$DB_ADMIN_USER" -p"$DB_ADMIN_PASSWORD" -e 'select 1' >/dev/null 2>&1 ||
			die "MariaDB account $DB_ADMIN_USER cannot log in over TCP (127.0.0.1:3306)"
	fi
	ensure_mariadb_settings
}

db_admin() { mysql -h127.0.0.1 -u"$DB_ADMIN_USER" -p"$DB_ADMIN_PASSWORD" "$@"; }

# The server settings crm_pool needs, in a conf file of their own (read at every start of mariadbd)
# and applied to the running server at once: every one of them is dynamic in MariaDB >= 10.11 (SET
# GLOBAL), so MariaDB is restarted only for a setting that is not dynamic on the installed version,
# when the file changed and the running value differs. Why each value (data sizes of SPEC §8: 1,000,000
# pool customers ≈ 0.9 GB of Pool Customer and 0.6 GB of Lead, 5,000,000 Pool Log entries, 1,000,000
# invoices in a regrade):
#  - utf8mb4 / utf8mb4_unicode_ci: what Frappe creates its tables with (Chinese names, emoji);
#  - innodb_buffer_pool_size, a quarter of RAM (never lowered below what the server runs with):
#    the default 128 MB holds none of those tables, and a report over 1M customers then reads the
#    disk (the first scorecard query ran over 6 minutes at 128 MB, 1-2 s at 4 GB);
#  - innodb_log_file_size 1 GB: bulk INSERT … SELECT of 50,000-row chunks and the set-based regrade
#    and recycle write hundreds of MB of redo; a 96 MB redo log forces checkpoints in mid-statement;
#  - tmp_table_size / max_heap_table_size 64 MB: the reports' GROUP BY over a month of the Pool Log
#    and the workspace counts keep their temporary tables in memory instead of spilling to disk.
# Settings: CRM_POOL_MARIADB_CNF (the file; default /etc/mysql/mariadb.conf.d/60-crm-pool.cnf, which
# Debian's /etc/mysql/my.cnf includes), CRM_POOL_MARIADB_TUNE=1 (write and apply, default), check
# (print what would change, touch nothing), 0 (skip: a server someone else tunes).
MARIADB_CNF=${CRM_POOL_MARIADB_CNF:-/etc/mysql/mariadb.conf.d/60-crm-pool.cnf}
ensure_mariadb_settings() {
	local mode=${CRM_POOL_MARIADB_TUNE:-1}
	[[ $mode == 0 ]] && return 0
	local ram_kb pool
	ram_kb=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)
	pool=$((ram_kb * 1024 / 4 / 134217728 * 134217728)) # a quarter of RAM, in 128 MB chunks
	((pool >= 134217728)) || pool=134217728
	# name|value for the conf file; the running server is compared by name, numbers as bytes.
	local -a want=(
		"character_set_server|utf8mb4"
		"collation_server|utf8mb4_unicode_ci"
		"innodb_buffer_pool_size|$pool"
		"innodb_log_file_size|1073741824"
		"tmp_table_size|67108864"
		"max_heap_table_size|67108864"
	)
	local conf="# Written by crm_pool's scripts (scripts/lib.sh: ensure_mariadb_settings says why)."$'\n'"[mysqld]"
	local kv
	for kv in "${want[@]}"; do conf+=$'\n'"${kv%%|*} = ${kv#*|}"; done
	local changed=0
	if [[ "$(cat "$MARIADB_CNF" 2>/dev/null)" != "$conf" ]]; then
		changed=1
		if [[ $mode == check ]]; then
			log "MariaDB: would write $MARIADB_CNF:"$'\n'"$conf"
		else
			log "MariaDB: writing $MARIADB_CNF"
			as_root mkdir -p "$(dirname "$MARIADB_CNF")"
			printf '%s\n' "$conf" | as_root tee "$MARIADB_CNF" >/dev/null
		fi
	fi
	# Debian's stock /etc/mysql/my.cnf includes mariadb.conf.d; a trimmed one may not.
	local dir my=/etc/mysql/my.cnf
	dir=$(dirname "$MARIADB_CNF")
	if [[ $dir == /etc/mysql/* && -f $my ]] && ! grep -Eq "^[[:space:]]*!includedir[[:space:]]+$dir/?[[:space:]]*$" $my; then
		if [[ $mode == check ]]; then
			log "MariaDB: would add '!includedir $dir/' to $my"
		else
			log "MariaDB: $my does not read $dir: adding '!includedir $dir/'"
			printf '\n!includedir %s/\n' "$dir" | as_root tee -a $my >/dev/null
		fi
	fi
	# The running server: dynamic settings at once; a read-only one differing needs a restart.
	local name value cur ro restart=()
	for kv in "${want[@]}"; do
		name=${kv%%|*} value=${kv#*|}
		read -r cur ro < <(db_admin -N -e "SELECT GLOBAL_VALUE, READ_ONLY FROM information_schema.SYSTEM_VARIABLES
			WHERE VARIABLE_NAME = UPPER('$name')" 2>/dev/null) || { log "MariaDB: $name unknown to this server"; continue; }
		[[ $cur == "$value" ]] && continue
		# never shrink a buffer pool someone made larger
		[[ $name == innodb_buffer_pool_size && $cur =~ ^[0-9]+$ ]] && ((cur > value)) && continue
		if [[ $ro == YES ]]; then
			restart+=("$name")
		elif [[ $mode == check ]]; then
			log "MariaDB: would SET GLOBAL $name = $value (now $cur)"
		else
			[[ $value =~ ^[0-9]+$ ]] || value="'$value'"
			db_admin -e "SET GLOBAL $name = $value" || die "cannot SET GLOBAL $name on MariaDB"
		fi
	done
	if [[ ${#restart[@]} -gt 0 ]]; then
		if [[ $changed == 1 && $mode != check ]] && [[ -x /usr/sbin/mariadbd ]] && mysqladmin ping --silent 2>/dev/null; then
			log "MariaDB: restarting to apply ${restart[*]} (not dynamic on this version)"
			as_root mysqladmin shutdown
			as_root start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd >/dev/null
			for _ in $(seq 120); do mariadb_alive && break || sleep 0.5; done
			mariadb_alive || die "MariaDB did not come back after the restart (see /var/log/mysql/)"
		else
			log "MariaDB: ${restart[*]} apply at the next restart of mariadbd"
		fi
	fi
}

redis_host_port() { # prints "host port" of REDIS_URL
	local hp=${REDIS_URL#redis://}
	hp=${hp%%/*}
	echo "${hp%%:*} ${hp##*:}"
}

ensure_redis() {
	local host port
	read -r host port < <(redis_host_port)
	if ! redis-cli -h "$host" -p "$port" ping >/dev/null 2>&1; then
		[[ $host == 127.0.0.1 || $host == localhost ]] || die "Redis at $REDIS_URL does not answer"
		log "starting Redis on $host:$port"
		as_root mkdir -p /var/lib/redis /var/log/redis
		as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$port" --save "" --appendonly no \
			--dir /var/lib/redis --logfile /var/log/redis/crm-pool.log >/dev/null
		for _ in $(seq 40); do redis-cli -h "$host" -p "$port" ping >/dev/null 2>&1 && break || sleep 0.25; done
		redis-cli -h "$host" -p "$port" ping >/dev/null 2>&1 || die "Redis could not be started on $host:$port"
	fi
}

# --- the bench user and the bench ----------------------------------------------------------------

ensure_user() {
	if is_root; then
		BENCH_USER=${CRM_POOL_USER:-crmpool}
		if ! id "$BENCH_USER" >/dev/null 2>&1; then
			log "creating user $BENCH_USER (bench refuses to run as root)"
			useradd --create-home --shell /bin/bash "$BENCH_USER"
		fi
	else
		BENCH_USER=$(id -un)
	fi
	BENCH_HOME=$(getent passwd "$BENCH_USER" | cut -d: -f6)
	CRM_POOL_HOME=${CRM_POOL_HOME:-$BENCH_HOME/crm-pool}
	BENCH_DIR=$CRM_POOL_HOME/frappe-bench
	CLI_VENV=$CRM_POOL_HOME/bench-cli
	if is_root; then
		mkdir -p "$CRM_POOL_HOME"
		chown "$BENCH_USER:" "$CRM_POOL_HOME"
	else
		mkdir -p "$CRM_POOL_HOME"
	fi
	export BENCH_USER BENCH_HOME CRM_POOL_HOME BENCH_DIR CLI_VENV
}

# as_user CMD: run a shell command as the bench user, in the bench directory when it exists.
as_user() {
	local path="$CLI_VENV/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	local dir=$CRM_POOL_HOME
	[[ -d $BENCH_DIR/sites ]] && dir=$BENCH_DIR
	if is_root; then
		runuser -u "$BENCH_USER" -- env HOME="$BENCH_HOME" USER="$BENCH_USER" LOGNAME="$BENCH_USER" \
			PATH="$path" bash -c "cd '$dir' && $1"
	else
		env PATH="$path:$PATH" bash -c "cd '$dir' && $1"
	fi
}

bench() { as_user "bench $*"; }

# quiet_bench ARGS...: a bench command whose chatter (progress bars) goes to a log file, shown on failure.
quiet_bench() {
	local logf=$CRM_POOL_HOME/last-bench-command.log
	if ! as_user "bench $* > '$logf' 2>&1"; then
		tail -n 40 "$logf" >&2
		return 1
	fi
}

ensure_bench_cli() {
	if ! as_user "'$CLI_VENV/bin/pip' show frappe-bench 2>/dev/null | grep -q '^Version: ${BENCH_CLI_REQ#*==}\$'"; then
		log "installing the bench CLI ($BENCH_CLI_REQ)"
		as_user "/usr/bin/python3 -m venv '$CLI_VENV' && '$CLI_VENV/bin/pip' install -q '$BENCH_CLI_REQ'" ||
			die "could not install $BENCH_CLI_REQ from PyPI"
	fi
}

bench_is_fresh() {
	[[ -f $BENCH_DIR/.crm_pool_stack && "$(cat "$BENCH_DIR/.crm_pool_stack")" == "$STACK_VERSION" ]] &&
		[[ -x $BENCH_DIR/env/bin/python && -d $BENCH_DIR/apps/erpnext && -d $BENCH_DIR/apps/frappe ]] &&
		grep -qx erpnext "$BENCH_DIR/sites/apps.txt"
}

ensure_bench() {
	ensure_bench_cli
	if bench_is_fresh; then
		return
	fi
	local t=$SECONDS
	git ls-remote "$FRAPPE_URL" "$BRANCH" >/dev/null 2>&1 ||
		die "cannot reach $FRAPPE_URL (branch $BRANCH); without GitHub access see shared/README.md (upstream/prepare)"
	if [[ -e $BENCH_DIR ]]; then
		log "the bench at $BENCH_DIR is stale or incomplete: rebuilding it"
		as_root rm -rf "$BENCH_DIR"
	fi
	log "bench init (Frappe $BRANCH) in $BENCH_DIR"
	as_user "bench init --frappe-branch '$BRANCH' --frappe-path '$FRAPPE_URL' --python /usr/bin/python3 \
		--skip-redis-config-generation --no-backups --no-procfile '$BENCH_DIR'" || die "bench init failed"
	# Frappe 15 still imports pkg_resources, which setuptools 81+ no longer ships.
	as_user "env/bin/pip install -q 'setuptools<81'" || die "could not pin setuptools<81"
	log "bench get-app erpnext ($BRANCH)"
	quiet_bench get-app --branch "$BRANCH" erpnext "$ERPNEXT_URL" || die "bench get-app erpnext failed"
	bench set-config -g redis_cache "$REDIS_URL"
	bench set-config -g redis_queue "$REDIS_URL"
	bench set-config -g redis_socketio "$REDIS_URL"
	bench set-config -g webserver_port 8000
	write_procfile
	echo "$STACK_VERSION" >"$BENCH_DIR/.crm_pool_stack"
	log "bench ready in $(elapsed $t)"
}

# Our own Procfile: the shared Redis instead of bench's private ones, and no asset watcher.
write_procfile() {
	as_user "cat > Procfile" <<'EOF'
web: bench serve --port 8000 --noreload
socketio: /usr/bin/env node apps/frappe/socketio.js
schedule: bench schedule
worker: bench worker 1>> logs/worker.log 2>> logs/worker.error.log
EOF
}

# --- the app -------------------------------------------------------------------------------------

# Hash of everything in the app that a site migrate depends on.
app_schema_hash() {
	(cd "$APP_DIR" && find crm_pool -type f \( -name '*.json' -o -name '*.csv' -o -name 'hooks.py' \
		-o -name 'patches.txt' -o -name 'install.py' \) -not -path '*/node_modules/*' -print0 |
		sort -z | xargs -0 sha1sum | sha1sum | cut -c1-16)
}
app_assets_hash() {
	(cd "$APP_DIR" && { [[ -d crm_pool/public ]] && find crm_pool/public -type f -print0 | sort -z |
		xargs -0 sha1sum; echo; } | sha1sum | cut -c1-16)
}

# Copy the current checkout into the bench (apps/crm_pool) and install it into the bench's env.
sync_app() {
	local target=$BENCH_DIR/apps/crm_pool
	if [[ $(realpath "$APP_DIR") != $(realpath -m "$target") ]]; then
		local own=()
		is_root && own=(--chown="$BENCH_USER:$BENCH_USER")
		rsync -a --delete "${own[@]}" --exclude .git --exclude node_modules --exclude __pycache__ \
			--exclude '*.pyc' --exclude .pytest_cache "$APP_DIR/" "$target/"
	fi
	local setup_hash
	setup_hash=$(sha1sum "$APP_DIR/setup.py" "$APP_DIR/pyproject.toml" | sha1sum | cut -c1-16)
	local marker=$BENCH_DIR/.crm_pool_installed
	if [[ "$(cat "$marker" 2>/dev/null)" != "$setup_hash" ]] ||
		! as_user "env/bin/python -c 'import crm_pool'" 2>/dev/null; then
		log "installing crm_pool into the bench's Python env"
		as_user "env/bin/pip install -q -e 'apps/crm_pool[test]' > '$CRM_POOL_HOME/pip-install.log' 2>&1" ||
			{ tail -n 30 "$CRM_POOL_HOME/pip-install.log"; die "pip install of crm_pool failed"; }
		echo "$setup_hash" | as_user "cat > '$marker'"
	fi
	grep -qx crm_pool "$BENCH_DIR/sites/apps.txt" || as_user "sed -i -e '\$a\\' sites/apps.txt && echo crm_pool >> sites/apps.txt"
	local assets
	assets=$(app_assets_hash)
	if [[ "$(cat "$BENCH_DIR/.crm_pool_assets" 2>/dev/null)" != "$assets" ]]; then
		log "building crm_pool assets"
		quiet_bench build --app crm_pool || die "bench build --app crm_pool failed"
		echo "$assets" >"$BENCH_DIR/.crm_pool_assets"
	fi
}

# The apps installed on a site, as Frappe's own JSON list (empty when the site is not usable).
site_apps() { as_user "bench --site '$1' execute frappe.get_installed_apps 2>/dev/null" | tr -d '\n ' || true; }

# ensure_site SITE LANGUAGE: a site with ERPNext set up (setup wizard done) and crm_pool installed
# and migrated to the current checkout. Each step is checked on its own, so an interrupted run resumes.
ensure_site() {
	local site=$1 lang=$2 t=$SECONDS marker=$BENCH_DIR/sites/$1/.crm_pool_site apps=""
	[[ -f $BENCH_DIR/sites/$site/site_config.json ]] && apps=$(site_apps "$site")
	if [[ $apps != *'"erpnext"'* ]]; then
		log "creating site $site with ERPNext (a few minutes)"
		as_user "rm -rf 'sites/$site'"
		quiet_bench new-site "$site" --force --no-mariadb-socket --db-root-username "$DB_ADMIN_USER" \
			--db-root-password "$DB_ADMIN_PASSWORD" --admin-password "$ADMIN_PASSWORD" --install-app erpnext ||
			die "bench new-site $site failed"
	fi
	if [[ $apps != *'"crm_pool"'* ]]; then
		log "installing crm_pool on $site"
		quiet_bench --site "$site" install-app crm_pool || die "installing crm_pool on $site failed"
		app_schema_hash | as_user "cat > '$marker'"
	fi
	if [[ ! -f $BENCH_DIR/sites/$site/.crm_pool_setup_done ]]; then
		log "running the ERPNext setup wizard on $site (language $lang)"
		quiet_bench --site "$site" execute crm_pool.setup.site.complete_setup_wizard \
			--kwargs "\"{'language': '$lang'}\"" || die "the ERPNext setup wizard failed on $site"
		as_user "touch 'sites/$site/.crm_pool_setup_done'"
	fi
	if [[ "$(cat "$marker" 2>/dev/null)" != "$(app_schema_hash)" ]]; then
		log "migrating $site to the current checkout"
		quiet_bench --site "$site" migrate || die "bench migrate of $site failed"
		app_schema_hash | as_user "cat > '$marker'"
	fi
	log "site $site ready ($(elapsed $t))"
}

# Everything both commands need: system, services, bench, the current app.
ensure_stack() {
	ensure_system "$@"
	ensure_mariadb
	ensure_redis
	ensure_user
	ensure_bench
	sync_app
}
