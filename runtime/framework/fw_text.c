/* Start-up part 4: text services. Opening a collator, a normalizer and a
 * break iterator makes ICU load its data file (mapped, shared) and build its
 * per-process tables on the heap. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <unicode/ubrk.h>
#include <unicode/ucol.h>
#include <unicode/uloc.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>

#include "fw_internal.h"

static UCollator *collator;
static const UNormalizer2 *normalizer;
static UBreakIterator *word_breaker;
/* The process that opened the collator and the breaker: in template mode
 * the template, whose heap pages the app shares (closing them there would
 * copy those pages, not free any). */
static pid_t opened_by;

static UCollator *open_collator(void)
{
	UErrorCode st = U_ZERO_ERROR;
	collator = ucol_open("en_US", &st);
	if (U_FAILURE(st)) {
		FW_LOG("ucol_open: %s\n", u_errorName(st));
		collator = NULL;
	}
	opened_by = getpid();
	return collator;
}

static UBreakIterator *open_word_breaker(void)
{
	UErrorCode st = U_ZERO_ERROR;
	word_breaker = ubrk_open(UBRK_WORD, "en_US", NULL, 0, &st);
	if (U_FAILURE(st)) {
		FW_LOG("ubrk_open: %s\n", u_errorName(st));
		word_breaker = NULL;
	}
	opened_by = getpid();
	return word_breaker;
}

/* After a trim they are opened again on first use (NULL only if ICU fails). */
UCollator *nuwa_fw_collator(void) { return collator ? collator : open_collator(); }
const UNormalizer2 *nuwa_fw_normalizer(void) { return normalizer; }
UBreakIterator *nuwa_fw_word_breaker(void) { return word_breaker ? word_breaker : open_word_breaker(); }

int fw_text_release(void)
{
	if (opened_by != getpid())
		return 0;
	int closed = (collator != NULL) + (word_breaker != NULL);
	if (collator)
		ucol_close(collator);
	if (word_breaker)
		ubrk_close(word_breaker);
	collator = NULL;
	word_breaker = NULL;
	return closed;
}

int fw_text_init(void)
{
	UErrorCode st = U_ZERO_ERROR;
	if (!open_collator())
		return -1;
	normalizer = unorm2_getNFCInstance(&st);
	if (U_FAILURE(st)) {
		FW_LOG("unorm2_getNFCInstance: %s\n", u_errorName(st));
		return -1;
	}
	if (!open_word_breaker())
		return -1;
	/* Warm-up: one normalisation and one comparison, as a first screen would. */
	UChar a[32], b[32], n[64];
	u_uastrcpy(a, "R\xc3\xa9sum\xc3\xa9");
	u_uastrcpy(b, "resume");
	st = U_ZERO_ERROR;
	unorm2_normalize(normalizer, a, -1, n, 64, &st);
	if (U_FAILURE(st)) {
		FW_LOG("unorm2_normalize: %s\n", u_errorName(st));
		return -1;
	}
	(void)ucol_strcoll(collator, a, -1, b, -1);
	return 0;
}

int nuwa_fw_word_count(const char *utf8)
{
	UBreakIterator *word_breaker = nuwa_fw_word_breaker();
	if (!word_breaker)
		return -1;
	UErrorCode st = U_ZERO_ERROR;
	int32_t len = 0;
	u_strFromUTF8(NULL, 0, &len, utf8, -1, &st);
	if (st != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(st))
		return -1;
	UChar *u = malloc(((size_t)len + 1) * sizeof *u);
	if (!u)
		return -1;
	st = U_ZERO_ERROR;
	u_strFromUTF8(u, len + 1, NULL, utf8, -1, &st);
	if (U_FAILURE(st)) {
		free(u);
		return -1;
	}
	ubrk_setText(word_breaker, u, len, &st);
	int words = 0;
	if (U_SUCCESS(st)) {
		for (int32_t p = ubrk_first(word_breaker); p != UBRK_DONE; p = ubrk_next(word_breaker))
			if (ubrk_getRuleStatus(word_breaker) >= UBRK_WORD_LETTER)
				words++;
	}
	/* Detach from the buffer before freeing it. */
	static const UChar empty[1];
	UErrorCode st2 = U_ZERO_ERROR;
	ubrk_setText(word_breaker, empty, 0, &st2);
	free(u);
	return U_SUCCESS(st) ? words : -1;
}

static int cmp_collate(const void *a, const void *b)
{
	/* nuwa_fw_collate_sort opened it; byte order if ICU could not. */
	if (!collator)
		return strcmp(*(const char *const *)a, *(const char *const *)b);
	UErrorCode st = U_ZERO_ERROR;
	UCollationResult r = ucol_strcollUTF8(collator, *(const char *const *)a, -1,
					      *(const char *const *)b, -1, &st);
	return U_FAILURE(st) ? strcmp(*(const char *const *)a, *(const char *const *)b) : (int)r;
}

void nuwa_fw_collate_sort(const char **items, size_t n)
{
	(void)nuwa_fw_collator();
	qsort(items, n, sizeof *items, cmp_collate);
}
