#!/usr/bin/env bats
# usage.bats - the command line: errors exit 100 with one line naming the
# culprit (and the usage line for usage errors), -h/--help/--version, and
# option parsing that stops at the first operand.

bats_require_minimum_version 1.5.0

load helper

USAGE_LINE='usage: single-server [-1cdDlSuvVz] '

# show: what the last "run" gave, for the failure report
show() {
	echo "status: $status" >&2
	echo "stdout: $output" >&2
	echo "stderr: ${stderr:-}" >&2
}

# usage_error TEXT: exit 100, nothing on stdout, one line naming TEXT on
# stderr followed by the usage line
usage_error() {
	show
	[ "$status" -eq 100 ]
	[ -z "$output" ]
	[ "${#stderr_lines[@]}" -eq 2 ]
	[[ "${stderr_lines[0]}" == *fatal:*"$1"* ]]
	[[ "${stderr_lines[1]}" == "$USAGE_LINE"* ]]
}

# refused TEXT: exit 100, nothing on stdout, one line naming TEXT on stderr
refused() {
	show
	[ "$status" -eq 100 ]
	[ -z "$output" ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "${stderr_lines[0]}" == *fatal:*"$1"* ]]
}

@test "an unknown short option is a usage error naming it" {
	run --separate-stderr "$SS" -q -S cat </dev/null
	usage_error "unknown option -q"
}

@test "an unknown long option is a usage error naming it" {
	run --separate-stderr "$SS" --no-such-option -S cat </dev/null
	usage_error "unknown option --no-such-option"
}

@test "a short option missing its argument is a usage error naming it" {
	run --separate-stderr "$SS" -S -L </dev/null
	usage_error "-L requires an argument"
}

@test "a long option missing its argument is a usage error naming it" {
	run --separate-stderr "$SS" -S --listen </dev/null
	usage_error "--listen requires an argument"
}

@test "-o without = is a usage error naming the argument" {
	run --separate-stderr "$SS" -S -o max_use -- cat </dev/null
	usage_error "-o max_use"
}

@test "no handler is a usage error" {
	run --separate-stderr "$SS" -S </dev/null
	usage_error "missing handler"
}

@test "no handler after -- is a usage error" {
	run --separate-stderr "$SS" -S -- </dev/null
	usage_error "missing handler"
}

@test "without -S and without any listening socket it is a usage error" {
	run --separate-stderr "$SS" -d -- cat </dev/null
	usage_error "no listening socket"
}

@test "an empty -n is a usage error" {
	run --separate-stderr "$SS" -S -n '' -- true </dev/null
	usage_error "-n: the service name is empty"
}

@test "a listen port over 65535 is refused, not wrapped around" {
	run --separate-stderr "$SS" -d -L 127.0.0.1:99999 -- true </dev/null
	refused 'listen address "127.0.0.1:99999": port "99999" is not a number from 0 to 65535'
}

@test "a listen address without a port is refused naming it" {
	run --separate-stderr "$SS" -d -L 127.0.0.1 -- true </dev/null
	refused 'listen address "127.0.0.1": expected HOST:PORT'
}

@test "an unknown service name in a listen address is refused naming it" {
	run --separate-stderr "$SS" -d -L 127.0.0.1:nosuchsvc -- true </dev/null
	refused 'listen address "127.0.0.1:nosuchsvc": unknown service "nosuchsvc"'
}

@test "an unknown host in a listen address is refused naming it" {
	run --separate-stderr "$SS" -d -L nosuchhost.invalid:0 -- true </dev/null
	show
	# 100 when the resolver says there is no such host; 111 on a machine
	# whose resolver cannot be reached at all (a passing failure)
	if [ "$status" -eq 111 ]; then
		[[ "$stderr" == *'cannot look up host "nosuchhost.invalid"'* ]]
	else
		refused 'listen address "nosuchhost.invalid:0": unknown host "nosuchhost.invalid"'
	fi
}

@test "--help says which options belong to master(8) mode" {
	run --separate-stderr "$SS" --help
	[ "$status" -eq 0 ]
	grep -E -- '^ +-s, --socket-count .*master\(8\)' <<<"$output"
	grep -E -- '^ +-t, --transport .*master\(8\)' <<<"$output"
	grep -E -- '^ +-l, --solitary .*master\(8\)' <<<"$output"
}

@test "bin/single-server in the build tree is a real executable, not a wrapper script" {
	[ "$(head -c 4 "$SS" | od -An -tx1 | tr -d ' ')" = 7f454c46 ]
}

@test "bin/single-server loads no libevent shared object when configure chose the archive" {
	local how
	how=$(sed -n 's/^LIBEVENT_TOOL_LIBS = //p' "$BUILD/Makefile")
	echo "LIBEVENT_TOOL_LIBS: $how"
	[[ $how == *.a ]] || skip "configured with the shared libevent_core"
	run readelf -d "$SS"
	[ "$status" -eq 0 ]
	[[ $output == *"(NEEDED)"*libc.so* ]]
	[[ $output != *libevent* ]]
}

@test "-s does not go with -S: a usage error naming master(8) mode" {
	run --separate-stderr "$SS" -S -s 1 -- cat </dev/null
	usage_error "-s and -t are for master(8) mode"
}

@test "-t does not go with -S: a usage error naming master(8) mode" {
	run --separate-stderr "$SS" -S -t inet -- cat </dev/null
	usage_error "-s and -t are for master(8) mode"
}

@test "-t outside master(8) (no status channel on fd 5) is refused naming fd 5" {
	run --separate-stderr "$SS" -t inet -- cat </dev/null 5<&-
	refused "fd 5 is not the master's status channel"
}

@test "-L does not go with master(8) mode" {
	run --separate-stderr "$SS" -t inet -L 127.0.0.1:0 -- "$H/echo-line" </dev/null 5<&-
	usage_error "-L does not go with master(8) mode"
}

@test "--check with -t checks a master.cf command line without the master's descriptors" {
	run --separate-stderr "$SS" --check -t inet -n policy -- "$H/echo-line" </dev/null 5<&-
	[ "$status" -eq 0 ]
	run --separate-stderr "$SS" --check -t fifo -n policy -- "$H/echo-line" </dev/null 5<&-
	usage_error "-t fifo: unknown transport"
}

@test "-s with a count that is not a number is a usage error naming it" {
	run --separate-stderr "$SS" -S -s many -- cat </dev/null
	usage_error "-s many"
}

@test "-c with an empty chroot_directory is an error naming both" {
	run --separate-stderr "$SS" -S -c -- cat </dev/null
	refused "-c"
	[[ "$stderr" == *chroot_directory* ]]
}

@test "-D with an empty debugger_command is an error naming both" {
	run --separate-stderr "$SS" -S -D -- cat </dev/null
	refused "-D"
	[[ "$stderr" == *debugger_command* ]]
}

@test "-h prints the usage on stdout and exits 0" {
	run --separate-stderr "$SS" -h </dev/null
	show
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "$USAGE_LINE"* ]]
	[ -z "$stderr" ]
}

@test "--help prints the usage and the options on stdout and exits 0" {
	run --separate-stderr "$SS" --help </dev/null
	show
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "$USAGE_LINE"* ]]
	[[ "$output" == *--stream* ]]
	[[ "$output" == *--listen* ]]
	[ -z "$stderr" ]
}

@test "--version prints the program name and version and exits 0" {
	run --separate-stderr "$SS" --version </dev/null
	show
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" =~ ^single-server\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
	[ -z "$stderr" ]
}

@test "--version prints configure.ac's version (AC_INIT, the one place it is written)" {
	local version
	version=$(sed -n 's/^AC_INIT(\[single-server\], \[\([^]]*\)\].*/\1/p' "$SRC/configure.ac")
	[ -n "$version" ]
	run -0 "$SS" --version </dev/null
	[ "$output" = "single-server $version" ]
}

@test "debian/changelog's upstream version is configure.ac's" {
	local version changelog
	# the packaging is in git, not in a release tarball (make distcheck)
	[ -f "$SRC/debian/changelog" ] || skip "no debian/ (a release tarball)"
	version=$(sed -n 's/^AC_INIT(\[single-server\], \[\([^]]*\)\].*/\1/p' "$SRC/configure.ac")
	changelog=$(sed -n '1s/^single-server (\([^)]*\)) .*/\1/p' "$SRC/debian/changelog")
	[ -n "$version" ]
	[ -n "$changelog" ]
	changelog=${changelog#*:}	# no epoch
	[ "${changelog%-*}" = "$version" ]	# no Debian revision
}

@test "options after -- belong to the handler" {
	run "$SS" -S -- sh -c 'echo "$1"' sh -v <<<x
	show
	[ "$status" -eq 0 ]
	[ "$output" = "-v" ]
}

@test "option parsing stops at the handler even without --" {
	run "$SS" -S grep -v foo < <(printf 'x\nfoo\n')
	show
	[ "$status" -eq 0 ]
	[ "$output" = "x" ]
}

@test "options of ours after the handler are the handler's: -h, -V, -o" {
	run --separate-stderr "$SS" -S echo -h -V -o x </dev/null
	show
	[ "$status" -eq 0 ]
	[ "$output" = "-h -V -o x" ]
	[ -z "$stderr" ]
}

@test "long options work like their short forms: --stream --option" {
	run "$SS" --stream --option max_use=5 -- cat <<<hello
	show
	[ "$status" -eq 0 ]
	[ "$output" = "hello" ]
}

# script(1) from util-linux gives the command a terminal on stdin.
need_tty() {
	command -v script >/dev/null || skip "script(1) is not installed"
	script -qec true /dev/null >/dev/null 2>&1 </dev/null ||
		skip "script(1) cannot allocate a terminal here"
}

@test "a terminal on stdin is refused: do not run this command by hand" {
	need_tty
	run script -qec "$SS -- cat" /dev/null </dev/null
	show
	[ "$status" -eq 100 ]
	[[ "$output" == *"do not run this command by hand"* ]]
}

@test "-d allows a terminal on stdin" {
	need_tty
	run script -qec "$SS -d -- cat" /dev/null </dev/null
	show
	# past the terminal check, it finds no listening socket
	[ "$status" -eq 100 ]
	[[ "$output" != *"by hand"* ]]
	[[ "$output" == *"no listening socket"* ]]
}

@test "-S allows a terminal on stdin" {
	need_tty
	run script -qec "$SS -S -- echo served" /dev/null </dev/null
	show
	[ "$status" -eq 0 ]
	[[ "$output" == *served* ]]
	[[ "$output" != *"by hand"* ]]
}

@test "command-line errors after the parameters are read carry the service tag" {
	run --separate-stderr "$SS" -S -L 127.0.0.1:0 -- true </dev/null
	usage_error "-L and -1 are for resident mode"
	[[ ${stderr_lines[0]} =~ ^${STAMP}single-server/true\[[0-9]+\]:\ fatal:\  ]]
}

@test "--print-config is on the usage line and in --help; it does not go with --check" {
	run -0 --separate-stderr "$SS" --help </dev/null
	[[ "${lines[0]}" == *' [--check] [--] handler [arg ...]' ]]
	[[ "${lines[1]}" == '       single-server --print-config[=all] [option ...]' ]]
	[[ "$output" == *'--print-config[=all]'* ]]
	run --separate-stderr "$SS" --check --print-config -- cat </dev/null
	usage_error "--check and --print-config do not go together"
	run --separate-stderr "$SS" --print-config=every </dev/null
	usage_error "--print-config=every"
}
