/* Start-up part 1: a TLS client context with the system's trust store
 * (CA_BUNDLE: a PEM bundle file, or a directory of PEM certificates).
 * Parsing the CA bundle into an X509_STORE is what every HTTPS-capable app
 * platform does before its first connection; the parsed certificates are a
 * large, never-again-written heap built at start-up. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "fw_internal.h"

static SSL_CTX *tls_ctx;

SSL_CTX *nuwa_fw_tls(void) { return tls_ctx; }

/* Load every *.crt / *.pem below DIR (one level of subdirectories, the
 * layout of /usr/share/ca-certificates): used where no one has run
 * update-ca-certificates to concatenate the bundle (images built without
 * package scripts). */
static int load_dir(X509_STORE *store, const char *dir, int depth)
{
	DIR *d = opendir(dir);
	if (!d) {
		FW_LOG("cannot open CA directory %s: %s\n", dir, strerror(errno));
		return -1;
	}
	int rc = 0;
	struct dirent *e;
	while (rc == 0 && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char path[4096];
		struct stat st;
		if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= sizeof path || stat(path, &st) < 0)
			continue;
		size_t n = strlen(e->d_name);
		if (S_ISDIR(st.st_mode) && depth > 0)
			rc = load_dir(store, path, depth - 1);
		else if (S_ISREG(st.st_mode) && n > 4 &&
			 (!strcmp(e->d_name + n - 4, ".crt") || !strcmp(e->d_name + n - 4, ".pem")) &&
			 X509_STORE_load_file(store, path) != 1) {
			FW_LOG("cannot load CA certificate %s\n", path);
			rc = -1;
		}
	}
	closedir(d);
	return rc;
}

int fw_tls_init(const char *ca_bundle, int *n_certs)
{
	if (OPENSSL_init_ssl(OPENSSL_INIT_LOAD_SSL_STRINGS | OPENSSL_INIT_LOAD_CRYPTO_STRINGS, NULL) != 1) {
		FW_LOG("OpenSSL initialisation failed\n");
		return -1;
	}
	tls_ctx = SSL_CTX_new(TLS_client_method());
	if (!tls_ctx) {
		FW_LOG("SSL_CTX_new failed\n");
		return -1;
	}
	struct stat st;
	if (stat(ca_bundle, &st) < 0) {
		FW_LOG("CA bundle %s: %s\n", ca_bundle, strerror(errno));
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		if (load_dir(SSL_CTX_get_cert_store(tls_ctx), ca_bundle, 1) < 0)
			return -1;
	} else if (SSL_CTX_load_verify_locations(tls_ctx, ca_bundle, NULL) != 1) {
		unsigned long e = ERR_get_error();
		FW_LOG("cannot load CA bundle %s: %s\n", ca_bundle, ERR_reason_error_string(e));
		return -1;
	}
	SSL_CTX_set_verify(tls_ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_min_proto_version(tls_ctx, TLS1_2_VERSION);
	STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(SSL_CTX_get_cert_store(tls_ctx));
	int n = 0;
	for (int i = 0; i < sk_X509_OBJECT_num(objs); i++)
		if (X509_OBJECT_get_type(sk_X509_OBJECT_value(objs, i)) == X509_LU_X509)
			n++;
	if (n == 0) {
		FW_LOG("CA bundle %s holds no certificates\n", ca_bundle);
		return -1;
	}
	*n_certs = n;
	return 0;
}
