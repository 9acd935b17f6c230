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
