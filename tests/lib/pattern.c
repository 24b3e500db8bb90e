/*
 * rdmatest: byte patterns that tell every byte from its neighbours, and
 * comparisons that name the first byte that differs and how many do, and
 * the bytes of a file to compare with.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "rdmatest.h"

/* The byte at index @i of the pattern @seed: never 0 */
uint8_t rt_pat(uint32_t seed, size_t i)
{
	uint64_t x = ((uint64_t)seed + 1) * 0x9e3779b97f4a7c15ULL ^
		     (uint64_t)i * 0xbf58476d1ce4e5b9ULL;

	x ^= x >> 31;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 29;
	return (uint8_t)(1 + x % 255);
}

/* @p[0..len) = pattern @seed from index @base */
void rt_fill(uint8_t *p, size_t len, uint32_t seed, size_t base)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = rt_pat(seed, base + i);
}

/*
 * Compare @p[0..len) with pattern @seed from index @base (@zero_ok: a 0
 * byte is accepted too). 0 or -EIO with a message naming the first bad
 * byte and how many are bad.
 */
int rt_check_pat_z(const struct rt_dev *d, const char *what, const uint8_t *p, size_t len,
		   uint32_t seed, size_t base, bool zero_ok)
{
	size_t i, first = SIZE_MAX, bad = 0;

	for (i = 0; i < len; i++) {
		if (p[i] == rt_pat(seed, base + i) || (zero_ok && !p[i]))
			continue;
		if (first == SIZE_MAX)
			first = i;
		bad++;
	}
	if (!bad)
		return 0;
	return rt_fail(d, -EIO, "%s: byte %zu of %zu (address %p) is 0x%02x, expected 0x%02x%s; %zu bytes differ",
		       what, first, len, (const void *)(p + first), p[first],
		       rt_pat(seed, base + first), zero_ok ? " or 0" : "", bad);
}

int rt_check_pat(const struct rt_dev *d, const char *what, const uint8_t *p, size_t len,
		 uint32_t seed, size_t base)
{
	return rt_check_pat_z(d, what, p, len, seed, base, false);
}

/* Every byte of @p[0..len) is @v */
int rt_check_val(const struct rt_dev *d, const char *what, const uint8_t *p, size_t len,
		 uint8_t v)
{
	size_t i, first = SIZE_MAX, bad = 0;

	for (i = 0; i < len; i++) {
		if (p[i] == v)
			continue;
		if (first == SIZE_MAX)
			first = i;
		bad++;
	}
	if (!bad)
		return 0;
	return rt_fail(d, -EIO, "%s: byte %zu of %zu (address %p) is 0x%02x, expected 0x%02x; %zu bytes differ",
		       what, first, len, (const void *)(p + first), p[first], v, bad);
}

/* @a and @b are equal */
int rt_check_same(const struct rt_dev *d, const char *what, const uint8_t *a, const uint8_t *b,
		  size_t len)
{
	size_t i, first = SIZE_MAX, bad = 0;

	for (i = 0; i < len; i++) {
		if (a[i] == b[i])
			continue;
		if (first == SIZE_MAX)
			first = i;
		bad++;
	}
	if (!bad)
		return 0;
	return rt_fail(d, -EIO, "%s: byte %zu of %zu is 0x%02x, expected 0x%02x; %zu bytes differ",
		       what, first, len, a[first], b[first], bad);
}

/*
 * A buffer of @len that was all zero, after @n bytes of pattern @seed (from
 * @base) went to @off: those bytes are there, and nothing else changed.
 */
int rt_check_landed(const struct rt_dev *d, const char *what, const uint8_t *buf, size_t len,
		    size_t off, size_t n, uint32_t seed, size_t base)
{
	char w[160];
	int err;

	snprintf(w, sizeof(w), "%s (the transferred bytes)", what);
	err = rt_check_pat(d, w, buf + off, n, seed, base);
	if (!err) {
		snprintf(w, sizeof(w), "%s (bytes before the target range)", what);
		err = rt_check_val(d, w, buf, off, 0);
	}
	if (!err) {
		snprintf(w, sizeof(w), "%s (bytes after the target range)", what);
		err = rt_check_val(d, w, buf + off + n, len - off - n, 0);
	}
	return err;
}

int rt_read_file(const struct rt_dev *d, const char *path, uint64_t off, uint8_t *buf,
		 size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return rt_fail(d, -errno, "open %s: %s", path, strerror(errno));
	n = pread(fd, buf, len, (off_t)off);
	close(fd);
	if (n != (ssize_t)len)
		return rt_fail(d, -EIO, "read of %zu bytes of %s at %#llx: %zd", len, path,
			       (unsigned long long)off, n);
	return 0;
}
