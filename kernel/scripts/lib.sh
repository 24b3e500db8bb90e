# Shared helpers for the kernel scripts; sourced, not run.
# shellcheck disable=SC2034 # the variables are for the scripts that source this

KERNEL_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LINUX_SOURCE_PACKAGE=linux-source-6.12
LINUX_SOURCE_TARBALL=/usr/src/linux-source-6.12.tar.xz
LINUX_SOURCE_VERSION=$(cat "$KERNEL_DIR/linux-source.version")
# The tag of the base commit in the work tree ('~' is not allowed in tags).
BASE_TAG="debian-${LINUX_SOURCE_VERSION//\~/_}"

die() {
	echo "kernel: error: $*" >&2
	exit 1
}

say() {
	echo "kernel: $*"
}

# The cover letter: kept with the series, never applied
COVER_LETTER=0000-cover-letter.patch

# Patches of the series, in the order they are applied.
series_patches() {
	find "$KERNEL_DIR/patches" -maxdepth 1 -name '*.patch' ! -name "$COVER_LETTER" |
		LC_ALL=C sort
}

# A fingerprint of the whole series: changes when any patch changes.
series_hash() {
	series_patches | xargs -r cat | sha256sum | cut -d' ' -f1
}

# Committer identity for commits the scripts make in the work tree.
export GIT_COMMITTER_NAME="${GIT_COMMITTER_NAME:-rdma-memstack build}"
export GIT_COMMITTER_EMAIL="${GIT_COMMITTER_EMAIL:-build@rdma-memstack.invalid}"
