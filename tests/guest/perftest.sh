# Run Debian's perftest tools over rxe0, one after the other: server and
# client in this VM (loopback) or, in a VM pair, the servers in one and the
# clients in the other. For each tool, both sides must exit 0 and the client
# must report a figure above 0. Each tool gets its own TCP port, so that a
# client never reaches the previous tool's server: PERFTEST_PORT (default
# 18515) and up. PERFTEST_PRELOAD, when set, is put in LD_PRELOAD of the
# tools (and of nothing else).
#
# perftest calibrates its cycle counter when it reports and gives up
# ("Can't produce a report") when the (virtual) CPU was too busy for a
# clean fit; its peer then fails the final exchange ("Failed to exchange
# data between server and clients") or only warns ("Failed to close
# connection"). That says nothing about what is tested, so such a run is
# repeated, up to 3 attempts, each on a port of its own (port + 100 per
# attempt). In a pair the client decides: after each attempt it sends its
# verdict (done, retry, fail) to the server on a control port (port + 50),
# so both sides repeat the same runs.
#
# usage: perftest.sh TOOL[,TOOL...] [PERFTEST OPTIONS...]
. "$(dirname "$0")/lib.sh"

[ $# -ge 1 ] || fail "usage: perftest.sh TOOL[,TOOL...] [OPTIONS...]"
IFS=, read -r -a tools <<<"$1"
shift
options=(-d rxe0 -x "$(rxe_ipv4_gid_index)" "$@")
for tool in "${tools[@]}"; do
	command -v "$tool" >/dev/null || fail "$tool is not installed (package perftest)"
done

# args: tool port log
run_server() {
	LD_PRELOAD=${PERFTEST_PRELOAD:-} "$1" "${options[@]}" -p "$2" >"$3" 2>&1
}

# The client retries while its server is not listening yet (pair mode).
# args: tool port log server_ip
run_client() {
	local i
	for ((i = 0; i < 60; i++)); do
		LD_PRELOAD=${PERFTEST_PRELOAD:-} "$1" "${options[@]}" -p "$2" "$4" >"$3" 2>&1 && return 0
		grep -q "Couldn't connect" "$3" || return 1
		sleep 1
	done
	return 1
}

# The average figure from perftest's result table and its unit: the 4th
# column ("BW average[MB/sec]", upstream's "[MiB/sec]") for the bandwidth
# tools, the 6th ("t_avg[usec]") for the latency tools, the 5th
# ("MsgRate[Mpps]") for ib_atomic_bw (8-byte messages: its MB/s, printed
# with two decimals, reads 0.00 below 1250 operations per second); the
# header is checked to hold that name. args: bw | lat | rate, log
result_figure() {
	awk -v kind="$1" '
		/^ *#bytes/ {
			hdr = (kind == "lat" ? /t_avg\[usec\]/ : kind == "rate" ? /MsgRate\[Mpps\]/ : /BW average\[M(i)?B\/sec\]/)
			unit = (kind == "lat" ? "usec" : kind == "rate" ? "Mpps" : /MiB\/sec/ ? "MiB/s" : "MB/s")
			next
		}
		hdr && $1 ~ /^[0-9]+$/ { v = (kind == "lat" ? $6 : kind == "rate" ? $5 : $4) }
		END { if (v != "") print v, unit }' "$2"
}

# Pair mode: the client's verdict on an attempt, to the server's control
# port (it listens from before its run on). args: port verdict
send_verdict() {
	local i
	for ((i = 0; i < 60; i++)); do
		{ echo "$2" >"/dev/tcp/$PEER_IP/$1"; } 2>/dev/null && return 0
		sleep 1
	done
	fail "could not send the verdict '$2' to the server's port $1"
}

# Pair mode: wait up to 900 s for the client's verdict; prints it. args: port
recv_verdict() {
	python3 -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("", int(sys.argv[1])))
s.listen(1)
s.settimeout(900)
c, _ = s.accept()
print(c.recv(64).decode().strip())' "$1"
}

# One attempt of one tool in this VM's role, on port @port; sets
# server_status and client_status; in a pair, sets verdict (the client's).
# args: tool port slog clog
attempt_tool() {
	local tool=$1 port=$2 slog=$3 clog=$4 pid vfile=/tmp/$1.verdict
	server_status=0 client_status=0 verdict=
	case $VM_ROLE in
	single)
		run_server "$tool" "$port" "$slog" &
		pid=$!
		wait_listen "$port" 30
		run_client "$tool" "$port" "$clog" "$VM_IP" || client_status=$?
		wait "$pid" || server_status=$?
		;;
	server)
		recv_verdict $((port + 50)) >"$vfile" &
		pid=$!
		run_server "$tool" "$port" "$slog" || server_status=$?
		wait "$pid" || true
		verdict=$(cat "$vfile")
		;;
	client)
		run_client "$tool" "$port" "$clog" "$PEER_IP" || client_status=$?
		;;
	*) fail "unknown VM_ROLE '$VM_ROLE'" ;;
	esac
}

# Run one tool in this VM's role, repeated as said at the top, and check
# its result. args: tool port
run_tool() {
	local tool=$1 port=$2 slog=/tmp/$1.server.log clog=/tmp/$1.client.log
	local server_status client_status verdict figure kind unit try p
	for try in 1 2 3; do
		p=$((port + 100 * (try - 1)))
		echo "==== $tool (port $p)$([ "$try" = 1 ] || echo ", attempt $try of 3")"
		rm -f "$slog" "$clog"
		attempt_tool "$tool" "$p" "$slog" "$clog"
		case $VM_ROLE in
		single)
			if [ "$try" = 3 ] || [ "$server_status$client_status" = 00 ] ||
				! calibration_failure "$slog" "$clog"; then
				break
			fi
			;;
		client)
			if [ "$client_status" = 0 ]; then
				send_verdict $((p + 50)) "done"
				break
			fi
			if [ "$try" = 3 ] || ! calibration_failure "$clog"; then
				send_verdict $((p + 50)) fail
				break
			fi
			send_verdict $((p + 50)) retry
			;;
		server)
			[ "$verdict" = retry ] || break ;;
		esac
		[ ! -f "$slog" ] || { echo "== server"; cat "$slog"; }
		[ ! -f "$clog" ] || { echo "== client"; cat "$clog"; }
		echo "perftest could not report (clock calibration on a busy host), or its peer could not; repeated"
	done
	[ ! -f "$slog" ] || { echo "== server"; cat "$slog"; }
	[ ! -f "$clog" ] || { echo "== client"; cat "$clog"; }
	if [ "$VM_ROLE" = server ]; then
		[ -n "$verdict" ] || fail "$tool: no verdict from the client (it failed or hung: see its output)"
		[ "$verdict" = "done" ] || fail "$tool: the client failed (see its output)"
		# the client has its figure; a server that could only not report is no failure
		[ "$server_status" = 0 ] || calibration_failure "$slog" ||
			fail "$tool server exited with $server_status"
		return 0
	fi
	[ "$server_status" = 0 ] || fail "$tool server exited with $server_status"
	[ "$client_status" = 0 ] || fail "$tool client failed"

	case $tool in
	*_lat) kind=lat ;;
	ib_atomic_bw) kind=rate ;;
	*) kind=bw ;;
	esac
	read -r figure unit < <(result_figure "$kind" "$clog") || true
	[ -n "${figure:-}" ] || fail "no result line in the $tool output"
	awk -v f="$figure" 'BEGIN { exit !(f > 0) }' || fail "$tool reported $figure $unit"
	echo "RESULT $tool ${VM_ROLE}: $figure $unit"
}

port=${PERFTEST_PORT:-18515}
[[ $port =~ ^[0-9]+$ ]] || fail "PERFTEST_PORT wants a TCP port number, not '$port'"
for tool in "${tools[@]}"; do
	run_tool "$tool" "$port"
	port=$((port + 1))
done
