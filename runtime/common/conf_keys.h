/* The config keys as one table, private to conf*.c.
 *
 * Each row of conf_keys[] (conf_keys.c) is one key: its section, name,
 * value type, the field it sets (offsetof in the section's struct, checked
 * against the type when it compiles), range, default and a one-line doc.
 * conf.c parses, defaults and frees by the table, conf_values.c turns one
 * value into its field, and nuwa_conf_keys_print() lists it (nuwad
 * --config-keys; tests/runtime/test_config_keys.py checks docs/runtime.md
 * against that list). A key that goes away becomes a row of
 * conf_retired[]: a config still using it gets one file:line error naming
 * what replaced it. */
#ifndef NUWA_CONF_KEYS_H
#define NUWA_CONF_KEYS_H

#include <stddef.h>

#include "conf.h"

enum conf_section { CONF_DAEMON, CONF_FRAMEWORK, CONF_APP };

enum conf_type {
	CONF_BOOL,   /* int: 1/yes/true/on, 0/no/false/off */
	CONF_INT,    /* int in lo..hi */
	CONF_LONG,   /* long in lo..hi */
	CONF_ENUM,   /* an enum: the value of the word in words[] */
	CONF_STR,    /* char *, not empty */
	CONF_PATH,   /* char *, made absolute */
	CONF_WORDS,  /* char ** (NULL-terminated) of blank-separated words; int count at count */
	CONF_PATHS,  /* CONF_WORDS made absolute */
	CONF_GROUP,  /* long: a gid, by name or number; ANY (if set) sets the int at count */
	CONF_CUSTOM, /* parse() (and release()) do it */
};

/* One word of an enum key and the value it stands for. */
struct conf_word {
	const char *word;
	int value;
};

struct conf_parser;
struct conf_key;

typedef int conf_parse_fn(struct conf_parser *p, const struct conf_key *k, void *obj,
			  const char *v);
typedef void conf_release_fn(const struct conf_key *k, void *obj);
/* A check of a string, or of each word of a list, before it is stored. */
typedef int conf_check_fn(struct conf_parser *p, const char *word);

struct conf_key {
	enum conf_section section;
	const char *key;
	const char *field_name;    /* as in conf.h: the key's own name but for a few */
	enum conf_type type;
	size_t field;              /* offsetof in nuwa_conf / nuwa_fw_conf / nuwa_app_conf */
	size_t count;              /* lists: offsetof their count; CONF_GROUP: see above */
	long lo, hi;               /* numbers: the range */
	const struct conf_word *words; /* CONF_ENUM: its words, in the order errors name them */
	const char *any;           /* CONF_GROUP: the word that means every user, or NULL */
	/* The default as a config would write it, set through the key's own
	 * parser when its section starts; NULL: none (numbers then hold UNSET,
	 * strings NULL, lists nothing) and SHOWN, if set, says what none means. */
	const char *def;
	long unset;
	const char *shown;
	const char *doc;           /* one line */
	const char *value;         /* CONF_CUSTOM: what the value looks like, for the list */
	conf_check_fn *check;
	conf_parse_fn *parse;
	conf_release_fn *release;
};

/* A key that is no more: RENAMED_TO names its successor in the same
 * section (the value stays valid), or it is NULL and WHY says what instead. */
struct conf_retired {
	enum conf_section section;
	const char *key;
	const char *renamed_to;
	const char *why;
};

/* The built-in tables (conf_keys.c). */
extern const struct conf_key conf_keys[];
extern const size_t conf_nkeys;
extern const struct conf_retired conf_retired[];
extern const size_t conf_nretired;

/* The reading state of one load. */
struct conf_parser {
	struct nuwa_conf *c;
	const char *file;
	int line;
	int in_section;           /* 0 before the first [section] of a file */
	enum conf_section sec;
	struct nuwa_app_conf *app;
	int fw;                   /* the [framework] section's index in c->frameworks */
	char *err;
	size_t errlen;
	char **includes;
	int nincludes;
	const struct conf_retired *extra_retired; /* a test's rows, after the built-in ones */
	size_t nextra_retired;
};

/* conf_values.c: "file:line: why" into P's error; returns -1. */
int conf_fail(struct conf_parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* V made absolute against the current directory (malloc'ed), or NULL. */
char *conf_abs_path(const char *v);

/* conf_values.c: one value of key K into OBJ (the section's struct), by K's type. */
int conf_set(struct conf_parser *p, const struct conf_key *k, void *obj, const char *v);
/* K's default into OBJ (a zeroed section struct). */
int conf_set_default(struct conf_parser *p, const struct conf_key *k, void *obj);
/* What K owns in OBJ, freed. */
void conf_release(const struct conf_key *k, void *obj);
void conf_free_words(int n, char **w);
/* 1 or 0 for a boolean word, -1 for any other. */
int conf_bool_word(const char *v);
/* What K's value looks like ("yes|no", "0..600000", "path", ...), into BUF. */
const char *conf_value_shape(const struct conf_key *k, char *buf, size_t cap);

/* The keys with a value of their own shape, and checks of single values
 * (conf_values.c), named in the table. */
conf_parse_fn conf_parse_template, conf_parse_app_uids, conf_parse_include, conf_parse_net,
	conf_parse_groups, conf_parse_framework;
conf_release_fn conf_release_template, conf_release_net, conf_release_groups,
	conf_release_framework;
conf_check_fn conf_check_core_dir, conf_check_fd_allow, conf_check_readonly_prefix,
	conf_check_module;

/* nuwa_conf_load with EXTRA retired rows besides the built-in ones (the
 * retired-key test's own row: tests/runtime/test_config_keys.py). */
int conf_load_retired(const char *path, struct nuwa_conf *c, char *err, size_t errlen,
		      const struct conf_retired *extra, size_t nextra);

#endif
