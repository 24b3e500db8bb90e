# Run Debian's perftest tools over rxe0, one after the other: server and
# client in this VM (loopback) or, in a VM pair, the servers in one and the
# clients in the other. For each tool, both sides must exit 0 and the client
# must report a figure above 0. Each tool gets its own TCP port, so that a
# client never reaches the previous tool's server: PERFTEST_PORT (default
# 18515) and up. PERFTEST_PRELOAD, when set, is put in LD_PRELOAD of the
# tools (and of nothing else).
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

# The average figure from perftest's result table: the 4th column
# ("BW average[MB/sec]") for the bandwidth tools, the 6th ("t_avg[usec]")
# for the latency tools, the 5th ("MsgRate[Mpps]") for ib_atomic_bw (8-byte
# messages: its MB/s, printed with two decimals, reads 0.00 below 1250
# operations per second); the header is checked to hold that name.
# args: bw | lat | rate, log
result_figure() {
	awk -v kind="$1" '
		/^ *#bytes/ {
			hdr = (kind == "lat" ? /t_avg\[usec\]/ : kind == "rate" ? /MsgRate\[Mpps\]/ : /BW average\[MB\/sec\]/)
			next
		}
		hdr && $1 ~ /^[0-9]+$/ { v = (kind == "lat" ? $6 : kind == "rate" ? $5 : $4) }
		END { if (v != "") print v }' "$2"
}

# Run one tool in this VM's role and check its result. args: tool port
run_tool() {
	local tool=$1 port=$2 slog=/tmp/$1.server.log clog=/tmp/$1.client.log
	local server_status=0 client_status=0 figure kind unit
	echo "==== $tool (port $port)"
	case $VM_ROLE in
	single)
		run_server "$tool" "$port" "$slog" &
		local pid=$!
		wait_listen "$port" 30
		run_client "$tool" "$port" "$clog" "$VM_IP" || client_status=$?
		wait "$pid" || server_status=$?
		;;
	server) run_server "$tool" "$port" "$slog" || server_status=$? ;;
	client) run_client "$tool" "$port" "$clog" "$PEER_IP" || client_status=$? ;;
	*) fail "unknown VM_ROLE '$VM_ROLE'" ;;
	esac
	[ ! -f "$slog" ] || { echo "== server"; cat "$slog"; }
	[ ! -f "$clog" ] || { echo "== client"; cat "$clog"; }
	[ "$server_status" = 0 ] || fail "$tool server exited with $server_status"
	[ "$client_status" = 0 ] || fail "$tool client failed"
	[ "$VM_ROLE" != server ] || return 0

	case $tool in
	*_lat) kind=lat unit=usec ;;
	ib_atomic_bw) kind=rate unit=Mpps ;;
	*) kind=bw unit=MB/s ;;
	esac
	figure=$(result_figure "$kind" "$clog")
	[ -n "$figure" ] || fail "no result line in the $tool output"
	awk -v f="$figure" 'BEGIN { exit !(f > 0) }' || fail "$tool reported $figure $unit"
	echo "RESULT $tool ${VM_ROLE}: $figure $unit"
}

port=${PERFTEST_PORT:-18515}
[[ $port =~ ^[0-9]+$ ]] || fail "PERFTEST_PORT wants a TCP port number, not '$port'"
for tool in "${tools[@]}"; do
	run_tool "$tool" "$port"
	port=$((port + 1))
done
