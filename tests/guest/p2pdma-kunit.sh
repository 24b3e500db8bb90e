# KUnit suite p2pdma_ranges (kernel patches 0030-0033): P2P providers of
# the NVMe controller's memory buffer (pages) and of edu's BAR 0 (no
# pages), the classification of each pair, range groups mapped by bus
# address (8 and 16 GiB, the last physical page) and through edu's IOMMU
# domain (edu copies bytes through the links), and refused bad groups.
# Every test must pass; a skip fails the run.
# usage: p2pdma-kunit.sh
. "$(dirname "$0")/lib.sh"

[ $# = 0 ] || fail "usage: p2pdma-kunit.sh"
kunit_run drivers/pci/p2pdma_kunit.ko p2pdma_ranges \
	provider_of_pages provider_without_pages classify map_bus_addr \
	map_large_groups bad_groups map_thru_host_bridge
