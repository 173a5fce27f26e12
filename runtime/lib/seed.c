/* Per-process secrets, remade in every child so apps do not share them. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

static NUWA_CHILD_RW uint64_t seed;
static NUWA_CHILD_RW int seeded;

static void fill(void *buf, size_t len)
{
	unsigned char *p = buf;
	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* No entropy source at all: refuse to hand out shared
			 * secrets rather than silently reuse them. */
			nuwa_log("getrandom: %s", strerror(errno));
			abort();
		}
		p += n;
		len -= (size_t)n;
	}
}

uint64_t nuwa_seed(void)
{
	if (!seeded) {
		fill(&seed, sizeof seed);
		seeded = 1;
	}
	return seed;
}

void nuwa_seed_child(void)
{
	unsigned int r[3];
	unsigned short s48[3];
	fill(&seed, sizeof seed);
	seeded = 1;
	fill(r, sizeof r);
	srandom(r[0]);
	srand(r[1]);
	memcpy(s48, &r[2], sizeof r[2]);
	fill(&s48[2], sizeof s48[2]);
	seed48(s48);
}
