/* The framework's part of an app's memory snapshot (nuwa_snapshot.h): its
 * heap statistics and a walk of the objects it allocated at start-up. The
 * hooks are registered when libnuwafw.so is loaded; they run inside the
 * snapshot, on the thread serving the app channel, and only read. */
#include <openssl/x509.h>
#include <sqlite3.h>

#include "fw_internal.h"
#include "nuwa_snapshot.h"

static int heap_stats(struct nuwa_snap *s, void *arg)
{
	const struct nuwa_fw_profile *p = nuwa_fw_profile();
	sqlite3_int64 cur = 0, hi = 0;
	int cache = 0, schema = 0, stmt = 0, unused = 0;
	(void)arg;
	sqlite3_status64(SQLITE_STATUS_MALLOC_COUNT, &cur, &hi, 0);
	if (nuwa_snap_printf(s, "fw.sqlite.memory_used: %lld\nfw.sqlite.memory_highwater: %lld\n"
			     "fw.sqlite.allocations: %lld\n",
			     (long long)sqlite3_memory_used(), (long long)sqlite3_memory_highwater(0),
			     (long long)cur) < 0)
		return -1;
	if (nuwa_fw_db()) {
		sqlite3_db_status(nuwa_fw_db(), SQLITE_DBSTATUS_CACHE_USED, &cache, &unused, 0);
		sqlite3_db_status(nuwa_fw_db(), SQLITE_DBSTATUS_SCHEMA_USED, &schema, &unused, 0);
		sqlite3_db_status(nuwa_fw_db(), SQLITE_DBSTATUS_STMT_USED, &stmt, &unused, 0);
	}
	return nuwa_snap_printf(s, "fw.db.cache_bytes: %d\nfw.db.schema_bytes: %d\nfw.db.statement_bytes: %d\n"
				"fw.ca_certs: %d\nfw.db_tables: %d\nfw.theme_styles: %d\n"
				"fw.theme_strings: %d\nfw.workers: %d\nfw.jobs_done: %llu\nfw.ticks: %llu\n",
				cache, schema, stmt, p->ca_certs, p->db_tables, p->theme_styles,
				p->theme_strings, p->workers, (unsigned long long)nuwa_fw_jobs_done(),
				(unsigned long long)nuwa_fw_ticks());
}

/* One line per framework-owned object: prepared statements (with their
 * memory and SQL), the trust store's certificates, the theme's strings. */
static int walk_allocations(struct nuwa_snap *s, void *arg)
{
	sqlite3_stmt *st = NULL;
	SSL_CTX *tls = nuwa_fw_tls();
	int i, n;
	(void)arg;
	if (nuwa_fw_db()) {
		while ((st = sqlite3_next_stmt(nuwa_fw_db(), st)))
			if (nuwa_snap_printf(s, "fw.stmt bytes=%d sql=%.200s\n",
					     sqlite3_stmt_status(st, SQLITE_STMTSTATUS_MEMUSED, 0),
					     sqlite3_sql(st)) < 0)
				return -1;
	}
	if (tls) {
		STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(SSL_CTX_get_cert_store(tls));
		n = objs ? sk_X509_OBJECT_num(objs) : 0;
		for (i = 0; i < n; i++) {
			X509 *x = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs, i));
			char name[160] = "?";
			if (x)
				X509_NAME_oneline(X509_get_subject_name(x), name, sizeof name);
			if (nuwa_snap_printf(s, "fw.cert %s\n", name) < 0)
				return -1;
		}
	}
	n = nuwa_fw_profile()->theme_strings;
	for (i = 0; i < n; i++) {
		const char *k = nuwa_fw_string_key(i);
		if (k && nuwa_snap_printf(s, "fw.string %s\n", k) < 0)
			return -1;
	}
	return 0;
}

__attribute__((constructor)) static void register_snapshot_hooks(void)
{
	static const struct nuwa_snapshot_hooks hooks = { heap_stats, walk_allocations, NULL };
	nuwa_snapshot_set_hooks(&hooks);
}
