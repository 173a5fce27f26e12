/* Answers rendered as JSON or as indented "key: value" text. */
#ifndef NUWAD_OUT_H
#define NUWAD_OUT_H

#include <stddef.h>

#define OUT_MAX_DEPTH 8

struct out {
	char *buf;
	size_t len, cap;
	int text;
	int depth;
	int count[OUT_MAX_DEPTH];  /* items written at each level */
	int array[OUT_MAX_DEPTH];  /* level is an array */
	int failed;                /* out of memory */
};

void out_init(struct out *o, int text);
void out_free(struct out *o);
/* KEY is NULL inside arrays and at the top level. */
void out_obj_begin(struct out *o, const char *key);
void out_obj_end(struct out *o);
void out_arr_begin(struct out *o, const char *key);
void out_arr_end(struct out *o);
void out_str(struct out *o, const char *key, const char *v);
void out_int(struct out *o, const char *key, long long v);
void out_num(struct out *o, const char *key, double v);
void out_bool(struct out *o, const char *key, int v);
void out_null(struct out *o, const char *key);

#endif
