# t/postfix.bash - a private Postfix master(8) running single-server
# services, for t/master.bats; loaded after helper.bash ("load postfix").
#
# The real master from Debian's postfix package (./dev deps installs it
# with the debconf answer "No configuration"; the system instance is never
# started), with a configuration directory and queue of its own under
# /tmp/ss-pf.XXXXXX: every path component must be traversable by user
# postfix, and bats' own temporary directory is 0700. Its main.cf names a
# daemon_directory holding a symlink "single-server" to the built $SS, so
# master.cf lines run "single-server ...". The master logs only to syslog:
# it runs inside the private syslog namespace of helper.bash (syslog_start
# first), and so do the single-server processes it spawns.
#
# The master runs in a session of its own (setsid), as "postfix start"
# leaves it: on SIGTERM it signals its process group, as in production.
# (Without that, master -d is no group leader and its SIGTERM handler
# dies with "kill process group: No such process", leaving its children.)
# Every process it spawned is found through that session id or its parent
# pids, never by name, and killed in teardown even if the master is gone.

PF_MASTER=${PF_MASTER:-/usr/lib/postfix/sbin/master}

# need_postfix: skip unless Postfix's master(8) is installed
need_postfix() {
	[ -x "$PF_MASTER" ] ||
		skip "no Postfix master(8) at $PF_MASTER (./dev deps installs postfix)"
}

# postfix_setup: make the private configuration and queue; sets PF_DIR
# (the top, removed by postfix_teardown) and PF_CONF (config_directory)
postfix_setup() {
	local d
	PF_DIR=$(mktemp -d /tmp/ss-pf.XXXXXX)
	chmod 755 "$PF_DIR"
	PF_CONF=$PF_DIR/etc
	mkdir -p "$PF_CONF" "$PF_DIR/libexec" "$PF_DIR/data" \
		"$PF_DIR/queue/pid" "$PF_DIR/queue/public" "$PF_DIR/queue/private"
	chown postfix "$PF_DIR/data" "$PF_DIR/queue/public" "$PF_DIR/queue/private"
	chmod 700 "$PF_DIR/data"
	ln -s "$SS" "$PF_DIR/libexec/single-server"
	cat >"$PF_CONF/main.cf" <<-EOF
		queue_directory = $PF_DIR/queue
		data_directory = $PF_DIR/data
		daemon_directory = $PF_DIR/libexec
		mail_owner = postfix
		inet_interfaces = 127.0.0.1
		compatibility_level = 3.6
		myhostname = localhost.localdomain
		mydomain = localdomain
	EOF
	# The master passes its services only the variables it imports: under
	# the sanitizer build (.ci/sanitize) the single-server processes need
	# the options that send their reports where the script looks.
	if [ -n "${SS_SANITIZE:-}" ]; then
		echo "import_environment = $(postconf -d -h import_environment)" \
			"ASAN_OPTIONS UBSAN_OPTIONS" >>"$PF_CONF/main.cf"
	fi
	for d in "$PF_DIR" "$PF_DIR/queue" "$PF_DIR/libexec" "$PF_CONF"; do
		chmod 755 "$d"
	done
	# Postfix reads a main.cf younger than about two seconds again and
	# again (a 300 ms pause each time) until it is that old: it takes it
	# for a file still being written. Make it old.
	touch -d '-1 minute' "$PF_CONF/main.cf"
}

# postfix_maillog: log through postlogd(8) to the file PF_MAILLOG
# (maillog_file, Postfix 3.4 and later) instead of syslog; postfix_start
# then needs the postlog service line, POSTLOG_LINE, in master.cf
postfix_maillog() {
	[ -x "${PF_MASTER%/*}/postlogd" ] || skip "no postlogd(8) beside $PF_MASTER"
	ln -s "${PF_MASTER%/*}/postlogd" "$PF_DIR/libexec/postlogd"
	PF_MAILLOG=$PF_DIR/maillog
	cat >>"$PF_CONF/main.cf" <<-EOF
		maillog_file = $PF_MAILLOG
		maillog_file_prefixes = $PF_DIR
	EOF
	touch -d '-1 minute' "$PF_CONF/main.cf"
}

POSTLOG_LINE="postlog unix-dgram n - n - 1 postlogd"

# postfix_start LINE...: write LINEs to master.cf, each "@PORT@" replaced
# by a free port, and run the master in the background (inside the syslog
# namespace: call syslog_start first); retried (bounded) when that port
# was taken meanwhile. Sets PF_PORT, PF_ADDR (127.0.0.1:PF_PORT),
# MASTER_PID and PF_OUT (the master's stdout and stderr, which the
# single-server processes inherit). Returns once the master has logged
# "daemon started" and listens on the port.
postfix_start() {
	local try
	[ -n "${PF_DIR:-}" ] || postfix_setup
	[ -n "${SYSLOG_SOCK:-}" ] || syslog_start
	PF_OUT=$PF_DIR/master.out
	for ((try = 0; try < 3; try++)); do
		PF_PORT=$(free_port)
		PF_ADDR=127.0.0.1:$PF_PORT
		printf '%s\n' "$@" | sed "s/@PORT@/$PF_PORT/g" >"$PF_CONF/master.cf"
		rm -f "$PF_DIR/queue/pid/master.pid"
		: >"$PF_OUT"
		syslog_bg env MAIL_CONFIG="$PF_CONF" setsid "$PF_MASTER" -c "$PF_CONF" -d \
			</dev/null >>"$PF_OUT" 2>&1
		MASTER_PID=$BG_PID
		postfix_ready && return 0
		postfix_kill
		grep -q 'Address already in use' "$SYSLOG" "$PF_OUT" || break
	done
	echo "postfix master never started; master.cf, its output, syslog:" >&2
	cat "$PF_CONF/master.cf" "$PF_OUT" "$SYSLOG" >&2
	return 1
}

# postfix_ready: wait (bounded) until the master started as MASTER_PID has
# written its pid file (to the pid it has), logged "daemon started" and
# listens on PF_PORT; fails as soon as it died
postfix_ready() {
	local i pidfile=$PF_DIR/queue/pid/master.pid pid
	for ((i = 0; i < 200; i++)); do
		kill -0 "$MASTER_PID" 2>/dev/null || return 1
		pid=
		[ ! -s "$pidfile" ] || pid=$(tr -dc 0-9 <"$pidfile")
		if [ -n "$pid" ] && [ "$pid" != "$MASTER_PID" ]; then
			echo "the master's pid file says $pid, not $MASTER_PID" >&2
			MASTER_PID=$pid
		fi
		# with maillog_file (postfix_maillog), the master logs there
		if [ -n "$pid" ] &&
			grep -sqE "postfix/master\[$MASTER_PID\]: daemon started" \
				"$SYSLOG" ${PF_MAILLOG:+"$PF_MAILLOG"} &&
			listening_pid "$PF_PORT" "$MASTER_PID"; then
			return 0
		fi
		sleep 0.05
	done
	return 1
}

# postfix_procs: the pids of every live process the master spawned (its
# session, plus its descendants), one a line, the master excluded
postfix_procs() {
	[ -n "${MASTER_PID:-}" ] || return 0
	{
		ps -e -o pid=,sid= | awk -v s="$MASTER_PID" '$2 == s && $1 != s { print $1 }'
		descendants "$MASTER_PID"
	} | sort -un | while read -r p; do
		! alive "$p" || echo "$p"
	done
}

# postfix_stop [SIGNAL]: signal the master (TERM by default) and wait
# (bounded) for it to exit
postfix_stop() {
	kill -"${1:-TERM}" "$MASTER_PID"
	wait_exit "$MASTER_PID" 10
}

# postfix_kill: stop the master and everything it spawned, even what it
# left behind (SIGTERM, then SIGKILL after a bounded wait)
postfix_kill() {
	local procs
	[ -n "${MASTER_PID:-}" ] || return 0
	procs=$(postfix_procs)
	kill -TERM "$MASTER_PID" 2>/dev/null || true
	wait_exit "$MASTER_PID" 6 2>/dev/null || kill -KILL "$MASTER_PID" 2>/dev/null || true
	procs="$procs $(postfix_procs)"
	# shellcheck disable=SC2086
	kill_pids $procs
	MASTER_PID=
}

# postfix_teardown: postfix_kill, the other background processes, and the
# private directory
postfix_teardown() {
	postfix_kill
	cleanup_bg
	if [[ ${PF_DIR:-} == /tmp/ss-pf.* ]]; then
		# the accept locks in the default state_directory are named
		# after MAIL_CONFIG, each character but [-._A-Za-z0-9] as "_"
		rm -f /run/single-server/"$(tr -c 'A-Za-z0-9._\n-' _ <<<"$PF_CONF")".*.lock
		rm -rf "$PF_DIR"
	fi
	PF_DIR=
	PF_MAILLOG=
}
