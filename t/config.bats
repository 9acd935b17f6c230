#!/usr/bin/env bats
# config.bats - parameters from -f files and -o: main.cf syntax, $name
# expansion, typed values with bounds, which setting wins, and the one-line
# configuration errors that name the file, line and parameter.

bats_require_minimum_version 1.5.0

load helper

setup() {
	CF=$BATS_TEST_TMPDIR/main.cf
}

# show: what the last "run" gave, for the failure report
show() {
	echo "status: $status" >&2
	echo "stdout: $output" >&2
	echo "stderr: ${stderr:-}" >&2
}

# config_error TEXT...: exit 100, nothing on stdout, exactly one line on
# stderr, and that line has every TEXT in it
config_error() {
	local text
	show
	[ "$status" -eq 100 ]
	[ -z "$output" ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "${stderr_lines[0]}" == *fatal:* ]]
	for text; do
		[[ "${stderr_lines[0]}" == *"$text"* ]]
	done
}

@test "an unknown parameter in a file names the file, line and parameter" {
	printf '# a comment\n\nno_such_thing = 1\n' >"$CF"
	run --separate-stderr "$SS" -S -f "$CF" -- true </dev/null
	config_error "$CF, line 3" no_such_thing
}

@test "an unknown parameter in -o names the -o and the parameter" {
	run --separate-stderr "$SS" -S -o no_such_thing=1 -- true </dev/null
	config_error "-o no_such_thing=1" no_such_thing
}

@test "a number that is not a number is an error naming the parameter" {
	printf 'max_use = 5\nmax_use = lots\n' >"$CF"
	run --separate-stderr "$SS" -S -f "$CF" -- true </dev/null
	config_error "$CF, line 2" max_use lots
}

@test "a time with an unknown unit (1x) is an error naming the parameter" {
	printf 'max_idle = 1x\n' >"$CF"
	run --separate-stderr "$SS" -S -f "$CF" -- true </dev/null
	config_error "$CF, line 1" max_idle 1x
}

@test "a value out of its range (in_flow_delay = 11) is an error" {
	printf 'in_flow_delay = 11\n' >"$CF"
	run --separate-stderr "$SS" -S -f "$CF" -- true </dev/null
	config_error "$CF, line 1" in_flow_delay 11
}

@test "time units multiply: in_flow_delay takes 10s but not 1m" {
	run --separate-stderr "$SS" -S -o in_flow_delay=10s -- true </dev/null
	show
	[ "$status" -eq 0 ]
	run --separate-stderr "$SS" -S -o in_flow_delay=1m -- true </dev/null
	config_error "-o in_flow_delay=1m" in_flow_delay
}

@test "a negative number is an error naming the parameter" {
	run --separate-stderr "$SS" -S -o max_use=-1 -- true </dev/null
	config_error "-o max_use=-1" max_use
}

@test "a negative time is an error naming the parameter" {
	printf 'drain_timeout = -5s\n' >"$CF"
	run --separate-stderr "$SS" -S -f "$CF" -- true </dev/null
	config_error "$CF, line 1" drain_timeout
}

@test "a line without = is an error naming the file and line" {
	printf 'max_use = 5\n# comment\nmax_idle 10\n' >"$CF"
	run --separate-stderr "$SS" -S -f "$CF" -- true </dev/null
	config_error "$CF, line 3" max_idle
}

@test "a continuation line with nothing before it is an error" {
	printf '  max_use = 5\n' >"$CF"
	run --separate-stderr "$SS" -S -f "$CF" -- true </dev/null
	config_error "$CF, line 1" continuation
}

@test "a missing configuration file is an error naming its path" {
	run --separate-stderr "$SS" -S -f "$BATS_TEST_TMPDIR/nowhere.cf" -- true </dev/null
	config_error "$BATS_TEST_TMPDIR/nowhere.cf"
}

@test "a \$reference to an unknown parameter is an error naming both" {
	printf 'max_use = $no_such_thing\n' >"$CF"
	run --separate-stderr "$SS" -S -f "$CF" -- true </dev/null
	config_error "$CF, line 1" max_use no_such_thing
}

@test "a \$reference in -o to an unknown parameter is an error naming both" {
	run --separate-stderr "$SS" -S -o 'max_idle=${no_such_thing}' -- true </dev/null
	config_error "-o max_idle=" max_idle no_such_thing
}

@test "an expansion loop is an error naming a parameter in it" {
	printf 'max_use = $max_idle\nmax_idle = ${max_use}\n' >"$CF"
	run --separate-stderr "$SS" -S -f "$CF" -- true </dev/null
	config_error "$CF, line" loop
	[[ "$stderr" == *max_use* || "$stderr" == *max_idle* ]]
}

@test "a parameter that refers to itself is an expansion loop" {
	run --separate-stderr "$SS" -S -o 'max_use=$max_use' -- true </dev/null
	config_error '-o max_use=$max_use' max_use loop
}

@test "\$name, \${name} and \$(name) all expand to the other parameter's value" {
	local ref
	for ref in '$syslog_name' '${syslog_name}' '$(syslog_name)'; do
		# the expanded text, not the reference, is what fails to convert
		printf 'syslog_name = notanumber\nmax_use = %s\n' "$ref" >"$CF"
		run --separate-stderr "$SS" -S -f "$CF" -- true </dev/null
		config_error "$CF, line 2" max_use '"notanumber"'
	done
}

@test "a file with comments, continuations and \$expansion takes effect" {
	cat >"$CF" <<-'EOF'
	# command_time_limit = 1000
	drain_timeout=1

	max_use   =   5
	command_time_limit =
	    ${drain_timeout}
	EOF
	local t0 t1
	t0=$(now_ms)
	run "$SS" -S -f "$CF" -- sleep 5 </dev/null
	t1=$(now_ms)
	show
	echo "elapsed: $((t1 - t0)) ms" >&2
	# the handler was killed by SIGTERM at the 1s command_time_limit
	[ "$status" -eq 143 ]
	[ $((t1 - t0)) -lt 4000 ]
}

@test "-o wins over -f given before it" {
	printf 'max_use = abc\n' >"$CF"
	run --separate-stderr "$SS" -S -f "$CF" -o max_use=5 -- echo ok </dev/null
	show
	[ "$status" -eq 0 ]
	[ "$output" = ok ]
}

@test "-o wins over -f given after it" {
	printf 'max_use = abc\n' >"$CF"
	run --separate-stderr "$SS" -S -o max_use=5 -f "$CF" -- echo ok </dev/null
	show
	[ "$status" -eq 0 ]
	[ "$output" = ok ]
}

@test "the last -o for a parameter wins" {
	run --separate-stderr "$SS" -S -o max_use=abc -o max_use=5 -- echo ok </dev/null
	show
	[ "$status" -eq 0 ]
	[ "$output" = ok ]
	run --separate-stderr "$SS" -S -o max_use=5 -o max_use=abc -- echo ok </dev/null
	config_error "-o max_use=abc" max_use
}

@test "-m is -o max_use: an error names -m and its argument" {
	run --separate-stderr "$SS" -S -m abc -- true </dev/null
	config_error "-m abc" max_use
}

@test "-i is -o max_idle: an error names -i and its argument" {
	run --separate-stderr "$SS" -S -i 1x -- true </dev/null
	config_error "-i 1x" max_idle
}

@test "-m and -o max_use are one setting: the last one wins" {
	run --separate-stderr "$SS" -S -m abc -o max_use=5 -- echo ok </dev/null
	show
	[ "$status" -eq 0 ]
	[ "$output" = ok ]
	run --separate-stderr "$SS" -S -o max_use=5 -m abc -- echo ok </dev/null
	config_error "-m abc" max_use
}

@test "-i wins over -f like -o does" {
	printf 'max_idle = 1x\n' >"$CF"
	run --separate-stderr "$SS" -S -i 5 -f "$CF" -- echo ok </dev/null
	show
	[ "$status" -eq 0 ]
	[ "$output" = ok ]
}

@test "an octal mode out of range is reported with octal bounds" {
	run --separate-stderr "$SS" -S -o unix_socket_mode=17777 -- true </dev/null
	config_error "-o unix_socket_mode=17777" 'parameter unix_socket_mode: value "17777" out of range (0 to 07777)'
}

# --- every parameter error names where the value came from (SPEC 9) ---

# bad_value NAME=VALUE TEXT [ARGS...]: the assignment, given with -o and
# then on line 3 of a file, is refused: exit 100 and one line that starts
# with "-o NAME=VALUE: parameter NAME: " or "FILE, line 3: parameter
# NAME: " and holds TEXT. ARGS (default -S) choose the mode; the handler
# is true.
bad_value() {
	local assign=$1 text=$2 name=${1%%=*}
	shift 2
	[ "$#" -gt 0 ] || set -- -S
	run --separate-stderr "$SS" "$@" -o "$assign" -- true </dev/null
	config_error ": -o $assign: parameter $name: " "$text"
	printf '# a comment\n\n%s = %s\n' "$name" "${assign#*=}" >"$CF"
	run --separate-stderr "$SS" "$@" -f "$CF" -- true </dev/null
	config_error ": $CF, line 3: parameter $name: " "$text"
}

@test "a bad number, time or mode names -o or FILE, line N" {
	bad_value max_use=lots 'bad value "lots"'
	bad_value max_idle=1x 'bad value "1x"'
	bad_value in_flow_delay=11 'out of range'
	bad_value unix_socket_mode=999 'bad value "999"'
}

@test "a bad boolean names -o or FILE, line N" {
	local name
	# the skeleton's booleans are listener options; take the first there is
	name=$("$SS" --print-config=all |
		grep -oE '^(listen_reuseport|tcp_nodelay|tcp_keepalive) ' | head -1) || true
	[ -n "$name" ] || skip "no boolean parameter in this build"
	bad_value "${name% }=maybe" 'bad value "maybe"'
}

@test "a bad keyword (handler_stderr, upstream_proxy_protocol) names -o or FILE, line N" {
	bad_value handler_stderr=syslog 'expected auto, inherit, log or null, not "syslog"'
	bad_value handler_stderr=syslog 'not "syslog"' --check -L 127.0.0.1:0
	bad_value upstream_proxy_protocol=proxy 'unknown value "proxy"'
	bad_value upstream_proxy_protocol=proxy 'unknown value "proxy"' \
		-d -L 127.0.0.1:0
}

@test "a bad syslog_facility names -o or FILE, line N" {
	bad_value syslog_facility=kern0 'unknown facility "kern0"'
	bad_value syslog_facility=kern0 'unknown facility "kern0"' -d -L 127.0.0.1:0
}

@test "an unknown user, group or root as user names -o or FILE, line N" {
	bad_value user=no-such-user-here 'unknown user "no-such-user-here"' \
		--check -u -L 127.0.0.1:0
	bad_value user=nobody:no-such-group 'unknown group "no-such-group"' \
		--check -u -L 127.0.0.1:0
	bad_value user=root 'is root' --check -u -L 127.0.0.1:0
	bad_value user=no-such-user-here 'unknown user' -u -S
}

@test "a bad network list names -o or FILE, line N" {
	bad_value upstream_proxy_networks=10.1.2.3/8 \
		'network "10.1.2.3/8" has host bits set'
	bad_value upstream_proxy_networks=10.1.2.3/8 'host bits set' \
		-d -L 127.0.0.1:0
	# a name would need a lookup: such a list is networks only
	bad_value upstream_proxy_networks=10.0.0.0/8,=proxy.test \
		'host name "=proxy.test" is not a network'
}

@test "a bad path (access_rules, chroot_directory) names -o or FILE, line N" {
	bad_value access_rules="$BATS_TEST_TMPDIR/none" 'cannot open rules file' \
		--check -L 127.0.0.1:0
	bad_value access_rules="$BATS_TEST_TMPDIR/none" 'cannot open rules file'
	bad_value chroot_directory= 'empty, but -c needs a directory' -c -S
	bad_value debugger_command= 'empty, but -D needs a command' -D -S
	# a directory that is not there: a system error, but named the same way
	run --separate-stderr "$SS" -c -o chroot_directory=/no/such/dir -S -- true </dev/null
	show
	[ "$status" -eq 111 ]
	[[ ${stderr_lines[0]} == *': -o chroot_directory=/no/such/dir: parameter chroot_directory: chroot /no/such/dir: '* ]]
}

@test "in_flow_burst below 1 with a rate names -o or FILE, line N" {
	bad_value in_flow_burst=0 'must be at least 1' -o in_flow_rate=5 -S
}

@test "a default that is refused is named as the default" {
	run --separate-stderr "$SS" -c -S -- true </dev/null
	config_error ": parameter chroot_directory (default): empty"
}

@test "an -o value with a line break is refused on one line" {
	run --separate-stderr "$SS" -S -o $'per_source_message=a\nb' -- true </dev/null
	config_error "-o per_source_message=a?b: parameter per_source_message: line break in value"
}

# --- -L unix:PATH where PATH is no socket ---

@test "-L unix:PATH of a regular file: exit 100, \"not a socket\", the file untouched" {
	local f=$BATS_TEST_TMPDIR/file before
	echo precious >"$f"
	before=$(stat -c '%i %s %Y' "$f")
	run --separate-stderr timeout 10 "$SS" -d -L "unix:$f" -- true </dev/null
	config_error "listen address \"unix:$f\": $f exists and is not a socket"
	[[ $stderr != *"in use"* ]]
	[ "$(cat "$f")" = precious ]
	[ "$(stat -c '%i %s %Y' "$f")" = "$before" ]
	# an absolute path is the same address; --check finds it too
	run --separate-stderr timeout 10 "$SS" -d -L "$f" -- true </dev/null
	config_error "not a socket"
	run --separate-stderr "$SS" --check -L "unix:$f" -- true </dev/null
	config_error "listen address \"unix:$f\": $f exists and is not a socket"
	[ "$(stat -c '%i %s %Y' "$f")" = "$before" ]
}

@test "-L unix:PATH of a directory or a symbolic link: not a socket either" {
	mkdir "$BATS_TEST_TMPDIR/dir"
	run --separate-stderr timeout 10 "$SS" -d -L "unix:$BATS_TEST_TMPDIR/dir" -- true </dev/null
	config_error "not a socket"
	[ -d "$BATS_TEST_TMPDIR/dir" ]
	ln -s "$BATS_TEST_TMPDIR/nowhere" "$BATS_TEST_TMPDIR/link"
	run --separate-stderr timeout 10 "$SS" -d -L "unix:$BATS_TEST_TMPDIR/link" -- true </dev/null
	config_error "not a socket"
	[ -L "$BATS_TEST_TMPDIR/link" ]
}

# --- --print-config ---

@test "--print-config prints only what -f and -o set, as written, \$name unexpanded" {
	printf '# c\nmax_use = 5\nsyslog_name = x$max_use\nmax_idle = 100s\n' >"$CF"
	printf 'per_source_message = # not\n   a comment\n' >>"$CF"
	run --separate-stderr "$SS" --print-config -f "$CF" -o process_limit=7 -i 9
	show
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	# table order; max_idle = 100s is the default; -i 9 wins over it
	[ "$output" = "$(printf '%s\n' 'max_use = 5' 'max_idle = 9' \
		'process_limit = 7' 'syslog_name = x$max_use' \
		'per_source_message = # not a comment')" ]
	# nothing set: nothing printed; a handler operand is allowed, not needed
	run -0 --separate-stderr "$SS" --print-config
	[ -z "$output" ]
	run -0 --separate-stderr "$SS" --print-config -- /no/such/handler
	[ -z "$output" ]
}

@test "--print-config=all prints every parameter but the run-time ones" {
	run -0 --separate-stderr "$SS" --print-config=all -o max_use=5
	show
	[ "${lines[0]}" = "max_use = 5" ]
	[[ $output == *$'\nmax_idle = 100s\n'* ]]
	[[ $output == *$'\nin_flow_burst = $in_flow_rate\n'* ]]
	[[ $output == *$'\nhandler_stderr = auto\n'* ]]
	[[ $output == *$'\nchroot_directory =\n'* ]]
	[[ $output != *process_id* ]]
	[[ $output != *process_name* ]]
	# one "name = value" line for each parameter the program knows
	[ "$(grep -cvE '^[a-z_0-9]+ =( .*)?$' <<<"$output")" -eq 0 ]
}

@test "--print-config output read back with -f prints the same (both forms)" {
	local out=$BATS_TEST_TMPDIR/out.cf
	printf 'max_use = 5\nsyslog_name = a$max_use${max_use}$(max_use)$$\n' >"$CF"
	printf 'per_source_message =   #1  two  \n\tthree \n' >>"$CF"
	printf 'upstream_proxy_networks = 10.0.0.0/8,\n 192.168.0.0/16\n' >>"$CF"
	run -0 --separate-stderr "$SS" --print-config -f "$CF" \
		-o 'debugger_command=  gdb -p $process_id  ' -o handler_stderr=log
	printf '%s\n' "$output" >"$out"
	run -0 --separate-stderr "$SS" --print-config -f "$out"
	[ "$output" = "$(cat "$out")" ]
	[[ $output == *'debugger_command = gdb -p $process_id'* ]]
	run -0 --separate-stderr "$SS" --print-config=all -f "$CF" -o max_idle=1h
	printf '%s\n' "$output" >"$out"
	run -0 --separate-stderr "$SS" --print-config=all -f "$out"
	[ "$output" = "$(cat "$out")" ]
}

@test "--print-config with a bad configuration exits 100 naming the culprit, prints nothing" {
	printf 'max_use = 5\nhandler_stderr = syslog\n' >"$CF"
	run --separate-stderr "$SS" --print-config -f "$CF"
	config_error ": $CF, line 2: parameter handler_stderr: "
	run --separate-stderr "$SS" --print-config=all -o upstream_proxy_networks=10.1.2.3/8
	config_error ": -o upstream_proxy_networks=10.1.2.3/8: parameter upstream_proxy_networks: "
	run --separate-stderr "$SS" --print-config -o no_such=1
	config_error "-o no_such=1: unknown parameter"
	run --separate-stderr "$SS" --print-config=some
	show
	[ "$status" -eq 100 ]
	[[ ${stderr_lines[0]} == *'--print-config=some: expected all'* ]]
}

@test "--print-config binds nothing and runs nothing" {
	local sock=$BATS_TEST_TMPDIR/s.sock ran=$BATS_TEST_TMPDIR/ran
	run -0 --separate-stderr timeout 10 "$SS" --print-config -d -L "unix:$sock" \
		-o max_use=3 -- sh -c "touch $ran"
	[ "$output" = "max_use = 3" ]
	[ ! -e "$sock" ]
	[ ! -e "$ran" ]
}
