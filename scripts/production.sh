# Production serving for scripts/up (sourced after lib.sh, not run): the layout of `bench setup
# production` without systemd and without sudo prompts. supervisord, run standalone with a main
# config of ours, keeps gunicorn (frappe.app), the RQ workers (short+default, long+default+short),
# the scheduler, socketio (node) and nginx running. Bench's own generators write the programs
# (`bench setup supervisor` → config/supervisor.conf) and the server block (`bench setup nginx` →
# config/nginx.conf); our two small files wrap them: config/supervisord.conf and config/nginx-main.conf,
# with the pid files and socket under config/pids and the logs in logs/.
#
# Settings (environment variables or scripts/up options):
#   CRM_POOL_HTTP_PORT      nginx, the address users open (--port; default 80)
#   CRM_POOL_WEB_PORT       gunicorn, loopback only, behind nginx (--web-port; default 8000)
#   CRM_POOL_SOCKETIO_PORT  node socketio, loopback only, behind nginx (--socketio-port; default 9000)
#   CRM_POOL_WEB_WORKERS    gunicorn workers (--workers; default 2 x cores + 1, see README.md)

HTTP_PORT=${CRM_POOL_HTTP_PORT:-80}
WEB_PORT=${CRM_POOL_WEB_PORT:-8000}
SOCKETIO_PORT=${CRM_POOL_SOCKETIO_PORT:-9000}
WEB_WORKERS=${CRM_POOL_WEB_WORKERS:-$(($(nproc) * 2 + 1))}

# The processes of a development server (bench start: honcho and the children of its Procfile).
DEV_PROCS="honcho start|frappe.utils.bench_helper frappe (serve|schedule|worker)|apps/frappe/socketio.js"

prod_paths() {
	PROD_CONF=$BENCH_DIR/config
	PROD_PIDS=$BENCH_DIR/config/pids
	SUPERVISORD_CONF=$PROD_CONF/supervisord.conf
	SUPERVISORD_PID=$PROD_PIDS/supervisord.pid
	BENCH_NAME=$(basename "$BENCH_DIR") # the prefix of bench's program and group names
}

port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

supervisord_running() {
	prod_paths
	[[ -f $SUPERVISORD_PID ]] && kill -0 "$(cat "$SUPERVISORD_PID")" 2>/dev/null
}

supervisorctl_() { as_root supervisorctl -c "$SUPERVISORD_CONF" "$@"; }

# descends_from PID ANCESTOR: true when ANCESTOR is PID or one of its parents.
descends_from() {
	local pid=$1
	while [[ -n $pid && $pid -gt 1 ]]; do
		[[ $pid == "$2" ]] && return 0
		pid=$(ps -o ppid= -p "$pid" 2>/dev/null | tr -d ' ')
	done
	return 1
}

# The development server's processes of THIS bench (their working directory is in it; other
# benches of the same user are left alone), not counting the ones supervisord runs.
dev_server_pids() {
	local pid cwd sup=""
	supervisord_running && sup=$(cat "$SUPERVISORD_PID")
	for pid in $(pgrep -u "$BENCH_USER" -f "$DEV_PROCS" || true); do
		cwd=$(readlink "/proc/$pid/cwd" 2>/dev/null) || continue
		[[ $cwd == "$BENCH_DIR" || $cwd == "$BENCH_DIR"/* ]] || continue
		[[ -n $sup ]] && descends_from "$pid" "$sup" && continue
		echo "$pid"
	done
}

stop_dev_server() {
	local pids
	pids=$(dev_server_pids)
	[[ -n $pids ]] || return 0
	log "stopping the development server of this bench (bench start)"
	# honcho puts each child in its own process group: the processes are stopped one by one.
	as_root kill -TERM $pids 2>/dev/null || true
	for _ in $(seq 60); do
		pids=$(dev_server_pids)
		[[ -n $pids ]] || return 0
		sleep 0.25
	done
	as_root kill -KILL $pids 2>/dev/null || true
	sleep 1
}

# supervisord and nginx open their log files as root: made beforehand (and given back after) as the
# bench user's, so that the development server (bench start, as that user) can still write them.
own_logs() {
	prod_paths
	local f files
	files=$(sed -n 's/^[a-z_]*logfile *= *//p' "$PROD_CONF/supervisor.conf" "$SUPERVISORD_CONF" 2>/dev/null | sort -u)
	for f in $files "$BENCH_DIR/logs/nginx-error.log" "$BENCH_DIR/logs/nginx-access.log"; do
		[[ $f == "$BENCH_DIR"/logs/* ]] || continue
		as_root touch "$f" && as_root chown "$BENCH_USER:" "$f"
	done
}

stop_production() {
	if supervisord_running; then
		log "stopping the production server of this bench (supervisord and its programs)"
		local pid
		pid=$(cat "$SUPERVISORD_PID")
		supervisorctl_ shutdown >/dev/null || as_root kill -TERM "$pid" || true
		for _ in $(seq 120); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
		kill -0 "$pid" 2>/dev/null && die "supervisord ($pid) did not stop; see $BENCH_DIR/logs/supervisord.log"
	fi
	[[ ! -f $SUPERVISORD_CONF ]] || own_logs
}

# Keep, of bench's nginx.conf, the upstreams and the server block of SITE only: bench writes one
# block per site of the bench (the test sites too, each on a port of its own, 80 first).
nginx_site_conf() {
	/usr/bin/python3 - "$BENCH_DIR/config/nginx.conf" "$1" <<'EOF'
import re, sys
text = re.sub(r"(?m)^\s*#.*$", "", open(sys.argv[1]).read())
blocks, depth, start = [], 0, 0
for i, c in enumerate(text):
	if c == "{":
		depth += 1
	elif c == "}":
		depth -= 1
		if depth == 0:
			blocks.append(text[start : i + 1].strip())
			start = i + 1
keep = []
for b in blocks:
	if b.startswith("server"):
		names = re.search(r"server_name\s+([^;]*);", b)
		if not names or sys.argv[2] not in names.group(1).split():
			continue
	keep.append(b)
if not any(b.startswith("server") for b in keep):
	sys.exit(f"no server block for {sys.argv[2]} in {sys.argv[1]}")
print("\n\n".join(keep))
EOF
}

# write_production_config SITE: bench's generated files and our two wrappers.
write_production_config() {
	local site=$1
	prod_paths
	bench set-config -g -p webserver_port "$WEB_PORT" >/dev/null
	bench set-config -g -p socketio_port "$SOCKETIO_PORT" >/dev/null
	bench set-config -g -p gunicorn_workers "$WEB_WORKERS" >/dev/null
	bench set-config -g -p background_workers 1 >/dev/null
	bench --site "$site" set-config -p nginx_port "$HTTP_PORT" >/dev/null
	quiet_bench setup supervisor --yes --skip-redis --skip-supervisord --user "$BENCH_USER" ||
		die "bench setup supervisor failed"
	# bench's own restarts (bench restart, bench update) call the system's supervisorctl, which does
	# not know this supervisord: scripts/up --production is what restarts it.
	bench set-config -g -p restart_supervisor_on_update False >/dev/null
	quiet_bench setup nginx --yes --logging none || die "bench setup nginx failed"
	local site_conf
	site_conf=$(nginx_site_conf "$site") || die "could not read the server block of $site in config/nginx.conf"
	as_user "mkdir -p '$PROD_PIDS' '$PROD_PIDS/nginx' logs && cat > config/nginx-site.conf" <<<"$site_conf"

	local nginx_user=""
	is_root && nginx_user="user $BENCH_USER;"
	as_user "cat > config/nginx-main.conf" <<EOF
# Written by scripts/up --production: nginx run by supervisord (not as a daemon), in front of this
# bench's gunicorn and socketio; the server block is bench's (config/nginx-site.conf, from
# \`bench setup nginx\`, this site's block only).
$nginx_user
worker_processes auto;
worker_rlimit_nofile 16384;
pid $PROD_PIDS/nginx.pid;
error_log $BENCH_DIR/logs/nginx-error.log warn;
events {
	# two connections per request in flight (client, gunicorn): an overload queues in gunicorn's
	# backlog instead of being refused here
	worker_connections 4096;
}
http {
	include /etc/nginx/mime.types;
	default_type application/octet-stream;
	access_log $BENCH_DIR/logs/nginx-access.log;
	server_tokens off;
	tcp_nopush on;
	client_body_temp_path $PROD_PIDS/nginx/client_body;
	proxy_temp_path $PROD_PIDS/nginx/proxy;
	fastcgi_temp_path $PROD_PIDS/nginx/fastcgi;
	uwsgi_temp_path $PROD_PIDS/nginx/uwsgi;
	scgi_temp_path $PROD_PIDS/nginx/scgi;
	include $PROD_CONF/nginx-site.conf;
}
EOF
	as_user "cat > config/supervisord.conf" <<EOF
; Written by scripts/up --production: a supervisord of this bench's own, run standalone (no systemd).
; The programs are bench's (config/supervisor.conf, from \`bench setup supervisor\`) and nginx.
[unix_http_server]
file=$PROD_PIDS/supervisor.sock
chmod=0770
chown=$BENCH_USER:$BENCH_USER

[supervisord]
logfile=$BENCH_DIR/logs/supervisord.log
pidfile=$SUPERVISORD_PID
childlogdir=$BENCH_DIR/logs

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://$PROD_PIDS/supervisor.sock

[program:$BENCH_NAME-nginx]
command=/usr/sbin/nginx -c $PROD_CONF/nginx-main.conf -g "daemon off;"
priority=5
autostart=true
autorestart=true
stopsignal=QUIT
stdout_logfile=$BENCH_DIR/logs/nginx.log
stderr_logfile=$BENCH_DIR/logs/nginx.error.log

[include]
files = $PROD_CONF/supervisor.conf
EOF
	own_logs
	as_root nginx -t -q -c "$PROD_CONF/nginx-main.conf" || die "nginx rejects config/nginx-main.conf (see above)"
}

# start_production SITE: start, or on a second run reload, the production server of this bench.
start_production() {
	local site=$1 p
	write_production_config "$site"
	stop_dev_server
	if supervisord_running; then
		log "reloading the production server (supervisord $(cat "$SUPERVISORD_PID"))"
		supervisorctl_ reread >/dev/null
		supervisorctl_ update >/dev/null
		# gunicorn runs with --preload: new code needs a restart, not a HUP.
		supervisorctl_ restart "$BENCH_NAME-web:" "$BENCH_NAME-workers:" >/dev/null
		supervisorctl_ signal HUP "$BENCH_NAME-nginx" >/dev/null # re-reads its config
	else
		for p in "$HTTP_PORT" "$WEB_PORT" "$SOCKETIO_PORT"; do
			port_taken "$p" && die "port $p is taken by another program (another bench's server?); stop it or choose other ports (--port, --web-port, --socketio-port)"
		done
		log "starting the production server: supervisord -c $SUPERVISORD_CONF"
		as_root supervisord -c "$SUPERVISORD_CONF"
	fi
	for _ in $(seq 120); do
		curl -fsS -o /dev/null "http://127.0.0.1:$HTTP_PORT/api/method/ping" 2>/dev/null && break
		sleep 0.5
	done
	curl -fsS -o /dev/null "http://127.0.0.1:$HTTP_PORT/api/method/ping" ||
		die "nginx did not answer on port $HTTP_PORT; see $BENCH_DIR/logs/ (web.error.log, nginx-error.log, supervisord.log)"
	supervisorctl_ status >&2 || true
}
