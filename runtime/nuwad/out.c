#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "out.h"

void out_init(struct out *o, int text)
{
	memset(o, 0, sizeof *o);
	o->text = text;
}

void out_free(struct out *o)
{
	free(o->buf);
	o->buf = NULL;
}

static void put(struct out *o, const char *s, size_t n)
{
	if (o->failed)
		return;
	if (o->len + n + 1 > o->cap) {
		size_t cap = o->cap ? o->cap : 256;
		char *b;
		while (o->len + n + 1 > cap)
			cap *= 2;
		b = realloc(o->buf, cap);
		if (!b) {
			o->failed = 1;
			return;
		}
		o->buf = b;
		o->cap = cap;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = 0;
}

static void putf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(struct out *o, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;
	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n > 0)
		put(o, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

static void json_string(struct out *o, const char *s)
{
	put(o, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			char e[2] = { '\\', (char)c };
			put(o, e, 2);
		} else if (c < 0x20) {
			putf(o, "\\u%04x", c);
		} else {
			put(o, (const char *)&c, 1);
		}
	}
	put(o, "\"", 1);
}

static void indent(struct out *o)
{
	int i;
	for (i = 1; i < o->depth; i++)
		put(o, "  ", 2);
}

/* Start an item at the current level. */
static void item(struct out *o, const char *key)
{
	if (o->text) {
		indent(o);
		if (key)
			putf(o, "%s: ", key);
	} else {
		if (o->count[o->depth] > 0)
			put(o, ",", 1);
		if (key) {
			json_string(o, key);
			put(o, ":", 1);
		}
	}
	o->count[o->depth]++;
}

static void begin(struct out *o, const char *key, int array)
{
	if (o->text) {
		if (o->depth > 0) {
			if (o->array[o->depth] && !key) {
				indent(o);
				put(o, "-\n", 2);
			} else {
				indent(o);
				putf(o, "%s:\n", key ? key : "");
			}
			o->count[o->depth]++;
		}
	} else {
		item(o, key);
		put(o, array ? "[" : "{", 1);
	}
	if (o->depth + 1 < OUT_MAX_DEPTH) {
		o->depth++;
		o->count[o->depth] = 0;
		o->array[o->depth] = array;
	}
}

static void end(struct out *o, int array)
{
	if (!o->text)
		put(o, array ? "]" : "}", 1);
	if (o->depth > 0)
		o->depth--;
	if (!o->text && o->depth == 0)
		put(o, "\n", 1);
}

void out_obj_begin(struct out *o, const char *key) { begin(o, key, 0); }
void out_obj_end(struct out *o) { end(o, 0); }
void out_arr_begin(struct out *o, const char *key) { begin(o, key, 1); }
void out_arr_end(struct out *o) { end(o, 1); }

void out_str(struct out *o, const char *key, const char *v)
{
	if (!v) {
		out_null(o, key);
		return;
	}
	item(o, key);
	if (o->text)
		putf(o, "%s\n", v);
	else
		json_string(o, v);
}

void out_int(struct out *o, const char *key, long long v)
{
	item(o, key);
	putf(o, o->text ? "%lld\n" : "%lld", v);
}

void out_num(struct out *o, const char *key, double v)
{
	item(o, key);
	putf(o, o->text ? "%.3f\n" : "%.3f", v);
}

void out_bool(struct out *o, const char *key, int v)
{
	item(o, key);
	putf(o, "%s%s", v ? "true" : "false", o->text ? "\n" : "");
}

void out_null(struct out *o, const char *key)
{
	item(o, key);
	putf(o, "%s", o->text ? "-\n" : "null");
}
