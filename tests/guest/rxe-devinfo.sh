# rxe0 exists on the guest NIC, its port is active, and ibv_devinfo -v
# reports it with the RoCE v2 GID of the guest's IPv4 address.
. "$(dirname "$0")/lib.sh"

ibv_devices | tee /tmp/devices
grep -qw rxe0 /tmp/devices || fail "ibv_devices does not list rxe0"

ibv_devinfo -v -d rxe0 >/tmp/devinfo || fail "ibv_devinfo -v -d rxe0 exited with $?"
cat /tmp/devinfo
grep -qE 'state:[[:space:]]+PORT_ACTIVE' /tmp/devinfo || fail "port 1 of rxe0 is not PORT_ACTIVE"
grep -qE 'link_layer:[[:space:]]+Ethernet' /tmp/devinfo || fail "rxe0's link layer is not Ethernet"
grep -qE "GID\[ *[0-9]+\]:[[:space:]]+::ffff:$VM_IP, RoCE v2" /tmp/devinfo ||
	fail "no RoCE v2 GID for $VM_IP in ibv_devinfo -v"
echo "rxe0: port active, RoCE v2 GID for $VM_IP at index $(rxe_ipv4_gid_index)"
