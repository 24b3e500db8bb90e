# Run one of Debian's perftest tools over rxe0: server and client in this VM
# (loopback) or, in a VM pair, the server in one and the client in the other.
# Checks that both sides exit 0 and that the client reports a figure above 0.
#
# usage: perftest.sh TOOL [PERFTEST OPTIONS...]
. "$(dirname "$0")/lib.sh"

[ $# -ge 1 ] || fail "usage: perftest.sh TOOL [OPTIONS...]"
tool=$1
shift
command -v "$tool" >/dev/null || fail "$tool is not installed (package perftest)"
port=18515
args=(-d rxe0 -x "$(rxe_ipv4_gid_index)" -p "$port" "$@")

run_server() {
	"$tool" "${args[@]}" >/tmp/server.log 2>&1
}

# The client retries while the server is not listening yet (pair mode).
run_client() {
	local server=$1 i
	for ((i = 0; i < 60; i++)); do
		if "$tool" "${args[@]}" "$server" >/tmp/client.log 2>&1; then
			return 0
		fi
		grep -q "Couldn't connect" /tmp/client.log || return 1
		sleep 1
	done
	return 1
}

# The average figure from perftest's result table: the 4th column
# ("BW average[MB/sec]") for the bandwidth tools, the 6th ("t_avg[usec]")
# for the latency tools; the header is checked to hold that name.
result_figure() {
	awk -v lat="$1" '
		/^ *#bytes/ { hdr = (lat ? /t_avg\[usec\]/ : /BW average\[MB\/sec\]/); next }
		hdr && $1 ~ /^[0-9]+$/ { v = (lat ? $6 : $4) }
		END { if (v != "") print v }' "$2"
}

case $VM_ROLE in
single)
	run_server &
	server_pid=$!
	wait_listen "$port" 30
	client_status=0
	run_client "$VM_IP" || client_status=$?
	server_status=0
	wait "$server_pid" || server_status=$?
	echo "== server"; cat /tmp/server.log
	echo "== client"; cat /tmp/client.log
	[ "$server_status" = 0 ] || fail "$tool server exited with $server_status"
	[ "$client_status" = 0 ] || fail "$tool client failed"
	log=/tmp/client.log
	;;
server)
	server_status=0
	run_server || server_status=$?
	cat /tmp/server.log
	[ "$server_status" = 0 ] || fail "$tool server exited with $server_status"
	exit 0
	;;
client)
	client_status=0
	run_client "$PEER_IP" || client_status=$?
	cat /tmp/client.log
	[ "$client_status" = 0 ] || fail "$tool client failed"
	log=/tmp/client.log
	;;
*) fail "unknown VM_ROLE '$VM_ROLE'" ;;
esac

case $tool in *_lat) lat=1 unit=usec ;; *) lat=0 unit=MB/s ;; esac
figure=$(result_figure "$lat" "$log")
[ -n "$figure" ] || fail "no result line in the $tool output"
awk -v f="$figure" 'BEGIN { exit !(f > 0) }' || fail "$tool reported $figure $unit"
echo "RESULT $tool ${VM_ROLE}: $figure $unit"
