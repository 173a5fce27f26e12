/* Start-up part 3: the UI theme. The resource bundle is parsed once into a
 * DOM and indexed by style id and string key, as a UI toolkit does before it
 * draws its first frame. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/hash.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "fw_internal.h"

static xmlDocPtr theme;
static xmlHashTablePtr styles;  /* style id -> <style> element */
static xmlHashTablePtr strings; /* string key -> <string> element */
static const char **string_keys;
static int n_string_keys;

xmlDocPtr nuwa_fw_theme(void) { return theme; }

static const char *attr_of(xmlNodePtr n, const char *name)
{
	for (xmlAttrPtr a = n->properties; a; a = a->next)
		if (!strcmp((const char *)a->name, name) && a->children && a->children->content)
			return (const char *)a->children->content;
	return NULL;
}

static xmlNodePtr child_named(xmlNodePtr parent, const char *name)
{
	for (xmlNodePtr c = parent ? parent->children : NULL; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE && !strcmp((const char *)c->name, name))
			return c;
	return NULL;
}

const char *nuwa_fw_style_attr(const char *style, const char *state, const char *attr)
{
	/* Follow parent="" links, as styles inherit unset properties. */
	for (int depth = 0; style && depth < 64; depth++) {
		xmlNodePtr s = xmlHashLookup(styles, (const xmlChar *)style);
		if (!s)
			return NULL;
		for (xmlNodePtr c = s->children; c; c = c->next) {
			if (c->type != XML_ELEMENT_NODE)
				continue;
			const char *name = attr_of(c, "name");
			const char *v = attr_of(c, attr);
			if (name && v && !strcmp(name, state))
				return v;
		}
		style = attr_of(s, "parent");
	}
	return NULL;
}

const char *nuwa_fw_string(const char *key, const char *lang)
{
	xmlNodePtr s = xmlHashLookup(strings, (const xmlChar *)key);
	for (xmlNodePtr c = s ? s->children : NULL; c; c = c->next) {
		const char *l = c->type == XML_ELEMENT_NODE ? attr_of(c, "lang") : NULL;
		if (l && !strcmp(l, lang) && c->children)
			return (const char *)c->children->content;
	}
	return NULL;
}

const char *nuwa_fw_string_key(int i)
{
	return i >= 0 && i < n_string_keys ? string_keys[i] : NULL;
}

/* libxml2 would print its own copy of every error; we report one line. */
static void quiet(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

int fw_theme_init(const char *path, int *n_styles, int *n_strings)
{
	if (access(path, R_OK) < 0) {
		FW_LOG("theme %s: %s\n", path, strerror(errno));
		return -1;
	}
	xmlInitParser();
	xmlSetGenericErrorFunc(NULL, quiet);
	theme = xmlReadFile(path, NULL, XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	xmlSetGenericErrorFunc(NULL, NULL);
	if (!theme) {
		const xmlError *e = xmlGetLastError();
		FW_LOG("cannot parse theme %s: line %d: %s", path, e ? e->line : 0,
		       e && e->message ? e->message : "unknown error\n");
		return -1;
	}
	xmlNodePtr root = xmlDocGetRootElement(theme);
	if (!root || strcmp((const char *)root->name, "theme")) {
		FW_LOG("%s: root element is not <theme>\n", path);
		return -1;
	}
	styles = xmlHashCreate(512);
	strings = xmlHashCreate(1024);
	if (!styles || !strings) {
		FW_LOG("out of memory indexing the theme\n");
		return -1;
	}
	int ns = 0, nk = 0;
	for (xmlNodePtr c = child_named(root, "styles") ? child_named(root, "styles")->children : NULL; c; c = c->next) {
		const char *id = c->type == XML_ELEMENT_NODE ? attr_of(c, "id") : NULL;
		if (id && xmlHashAddEntry(styles, (const xmlChar *)id, c) == 0)
			ns++;
	}
	xmlNodePtr strs = child_named(root, "strings");
	for (xmlNodePtr c = strs ? strs->children : NULL; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			nk++;
	string_keys = calloc((size_t)nk + 1, sizeof *string_keys);
	if (!string_keys) {
		FW_LOG("out of memory indexing the theme\n");
		return -1;
	}
	nk = 0;
	for (xmlNodePtr c = strs ? strs->children : NULL; c; c = c->next) {
		const char *key = c->type == XML_ELEMENT_NODE ? attr_of(c, "key") : NULL;
		if (key && xmlHashAddEntry(strings, (const xmlChar *)key, c) == 0)
			string_keys[nk++] = key;
	}
	n_string_keys = nk;
	if (ns == 0 || nk == 0) {
		FW_LOG("%s: theme has no styles or no strings\n", path);
		return -1;
	}
	*n_styles = ns;
	*n_strings = nk;
	return 0;
}
