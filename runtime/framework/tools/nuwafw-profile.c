/* nuwafw-profile: the framework's start-up profile, step by step: wall time
 * and heap built (mallinfo2) by each library's start-up. The figures in
 * docs/app-platform.md come from it (natively and in the guest).
 *   nuwafw-profile [DATA_DIR [CA_BUNDLE]] */
#include <malloc.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "fw_internal.h"

static size_t heap_kb(void)
{
	return mallinfo2().uordblks / 1024;
}

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	const char *data = argc > 1 ? argv[1] : "/usr/share/nuwa";
	const char *ca = argc > 2 ? argv[2] : "/etc/ssl/certs/ca-certificates.crt";
	if (argc > 3) {
		fprintf(stderr, "usage: nuwafw-profile [DATA_DIR [CA_BUNDLE]]\n");
		return 2;
	}
	char theme[4096];
	snprintf(theme, sizeof theme, "%s/theme.xml", data);
	int a = 0, b = 0, rc = 0;
	size_t total = 0, h = heap_kb();
	double t = now_ms(), t_all = t;
	printf("%-8s %10s %10s  %s\n", "step", "heap_kb", "ms", "built");
#define STEP(name, call, fmt, ...)                                                                   \
	do {                                                                                           \
		if ((call) < 0) {                                                                      \
			rc = 1;                                                                        \
			break;                                                                         \
		}                                                                                      \
		size_t dh = heap_kb() - h;                                                             \
		total += dh;                                                                           \
		printf("%-8s %10zu %10.1f  " fmt "\n", name, dh, now_ms() - t, __VA_ARGS__);          \
		h = heap_kb();                                                                         \
		t = now_ms();                                                                          \
	} while (0)
	STEP("tls", fw_tls_init(ca, &a), "%d CA certificates", a);
	if (!rc)
		STEP("db", fw_db_init(&a, &b), "%d tables, %d prepared statements", a, b);
	if (!rc)
		STEP("theme", fw_theme_init(theme, &a, &b), "%d styles, %d strings", a, b);
	if (!rc)
		STEP("text", fw_text_init(), "%s", "collator, NFC normalizer, word breaker");
	if (!rc)
		printf("%-8s %10zu %10.1f\n", "total", total, now_ms() - t_all);
	return rc;
}
