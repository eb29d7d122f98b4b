/*
 * http.c: the token endpoint request (see http.h).  What the handle
 * allows: HTTPS only, TLS 1.2 or newer, peer and host verification always
 * on (no option turns them off), no redirects, no proxy unless the config
 * names one (so https_proxy in a user's environment cannot steer a setuid
 * program), no signals, connect and total timeouts, no compression, and a
 * cap on the answer's size.
 *
 * Secrets inside the libraries: libcurl copies the request body (the
 * password) into its send buffer and the answer (the token) into its
 * receive buffer, and frees both without wiping.  So libcurl is given an
 * allocator that wipes every block it frees or moves, and OpenSSL is told
 * to cleanse its plaintext record buffers (SSL_OP_CLEANSE_PLAINTEXT).
 */
#include "http.h"

#include <malloc.h>
#include <sys/auxv.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/ssl.h>

#include "form.h"
#include "logging.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0"
#endif

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static CURLcode init_result = CURLE_FAILED_INIT;

/* libcurl's allocator: glibc's, but every block is wiped before it is
 * freed, and realloc never leaves the old block behind unwiped. */
static void
wiping_free(void *p)
{
	if (p == NULL)
		return;
	ropc_wipe(p, malloc_usable_size(p));
	free(p);
}

static void *
wiping_realloc(void *p, size_t n)
{
	size_t old;
	void *q;

	if (p == NULL)
		return malloc(n);
	old = malloc_usable_size(p);
	q = malloc(n > 0 ? n : 1);
	if (q == NULL)
		return NULL;
	memcpy(q, p, old < n ? old : n);
	wiping_free(p);
	return q;
}

/*
 * If the process already initialised libcurl, this allocator is not
 * installed (libcurl ignores a second init); the module still works.
 * libcurl opens $SSLKEYLOGFILE at init and writes TLS session secrets to
 * it: under sudo or su (setuid: AT_SECURE) that is a file the invoking
 * user names, written by root.  There the variable is hidden from libcurl
 * for the length of the init (a setuid program authenticating is single
 * threaded); elsewhere the environment is the caller's own.
 */
static void
global_init(void)
{
	char *keylog = getenv("SSLKEYLOGFILE"), *saved = NULL;

	if (keylog != NULL && getauxval(AT_SECURE) != 0) {
		saved = strdup(keylog);
		if (saved == NULL) {
			init_result = CURLE_OUT_OF_MEMORY;   /* fail closed */
			return;
		}
		unsetenv("SSLKEYLOGFILE");
	}
	init_result = curl_global_init_mem(CURL_GLOBAL_DEFAULT, malloc, wiping_free,
					   wiping_realloc, strdup, calloc);
	if (saved != NULL) {
		setenv("SSLKEYLOGFILE", saved, 1);
		free(saved);
	}
}

int
ropc_http_global_init(void)
{
	if (pthread_once(&init_once, global_init) != 0)
		return -1;
	return init_result == CURLE_OK ? 0 : -1;
}

void
ropc_http_result_init(struct ropc_http_result *res)
{
	res->net = ROPC_NET_ERROR;
	res->status = 0;
	ropc_buf_init(&res->body, ROPC_MAX_RESPONSE);
	res->error[0] = '\0';
	res->peer_subject[0] = res->peer_issuer[0] = res->peer_expiry[0] = res->peer_pin[0] = '\0';
}

void
ropc_http_result_free(struct ropc_http_result *res)
{
	ropc_buf_free(&res->body);
}

/* libcurl write callback: keep at most ROPC_MAX_RESPONSE bytes; returning
 * less than asked makes libcurl stop with CURLE_WRITE_ERROR. */
static size_t
on_data(char *p, size_t size, size_t nmemb, void *userdata)
{
	struct ropc_http_result *res = userdata;
	size_t n = size * nmemb;

	if (ropc_buf_append(&res->body, p, n) < 0) {
		res->net = ROPC_NET_TOO_BIG;
		return 0;
	}
	return n;
}

static enum ropc_net
net_class(CURLcode rc)
{
	switch (rc) {
	case CURLE_OK:
		return ROPC_NET_OK;
	case CURLE_OPERATION_TIMEDOUT:
		return ROPC_NET_TIMEOUT;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
		return ROPC_NET_CONNECT;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_USE_SSL_FAILED:
		return ROPC_NET_TLS;
	case CURLE_FILESIZE_EXCEEDED:
		return ROPC_NET_TOO_BIG;
	default:
		return ROPC_NET_ERROR;
	}
}

/* libcurl hands us the SSL_CTX before the handshake (OpenSSL backend). */
static CURLcode
on_ssl_ctx(CURL *h, void *sslctx, void *userdata)
{
	(void)h;
	(void)userdata;
	SSL_CTX_set_options((SSL_CTX *)sslctx, SSL_OP_CLEANSE_PLAINTEXT);
	return CURLE_OK;
}

/* Set an option; on failure remember which, for the log. */
#define SET(opt, val)                                                          \
	do {                                                                   \
		if (curl_easy_setopt(h, opt, val) != CURLE_OK) {               \
			snprintf(res->error, sizeof(res->error),               \
				 "libcurl refused option %s", #opt);           \
			goto out;                                              \
		}                                                              \
	} while (0)

int
ropc_http_post(struct ropc_ctx *ctx, const struct ropc_buf *body,
	       struct ropc_http_result *res)
{
	const struct ropc_settings *s = ctx->settings;
	struct ropc_http_request rq = { .url = s->token_endpoint, .body = body,
					.what = "token" };

	if (s->client_auth == ROPC_CLIENT_AUTH_BASIC) {
		rq.basic_id = s->client_id;
		rq.basic_secret = s->client_secret;
	}
	return ropc_http_request(ctx, &rq, res);
}

/* The first certificate of the chain libcurl saw: subject, issuer,
 * expiry, and the SHA-256 pin of its public key (for ropcctl discover). */
static void
peer_info(CURL *h, struct ropc_http_result *res)
{
	struct curl_certinfo *ci = NULL;
	const struct curl_slist *l;

	if (curl_easy_getinfo(h, CURLINFO_CERTINFO, &ci) != CURLE_OK || ci == NULL ||
	    ci->num_of_certs < 1)
		return;
	for (l = ci->certinfo[0]; l != NULL; l = l->next) {
		const char *d = l->data;

		if (strncmp(d, "Subject:", 8) == 0)
			snprintf(res->peer_subject, sizeof(res->peer_subject), "%s", d + 8);
		else if (strncmp(d, "Issuer:", 7) == 0)
			snprintf(res->peer_issuer, sizeof(res->peer_issuer), "%s", d + 7);
		else if (strncmp(d, "Expire date:", 12) == 0)
			snprintf(res->peer_expiry, sizeof(res->peer_expiry), "%s", d + 12);
		else if (strncmp(d, "Cert:", 5) == 0) {
			BIO *bio = BIO_new_mem_buf(d + 5, -1);
			X509 *x = bio != NULL ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
			unsigned char *der = NULL, md[EVP_MAX_MD_SIZE];
			unsigned int mdlen = 0;
			int n = x != NULL ? i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der) : -1;

			if (n > 0 && EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha256(), NULL) == 1) {
				int w = snprintf(res->peer_pin, sizeof(res->peer_pin), "sha256//");

				EVP_EncodeBlock((unsigned char *)res->peer_pin + w, md, (int)mdlen);
			}
			OPENSSL_free(der);
			X509_free(x);
			BIO_free(bio);
		}
	}
}

int
ropc_http_request(struct ropc_ctx *ctx, const struct ropc_http_request *rq,
		  struct ropc_http_result *res)
{
	const struct ropc_settings *s = ctx->settings;
	char errbuf[CURL_ERROR_SIZE];
	struct curl_slist *headers = NULL, *tail;
	struct ropc_buf auth;
	CURL *h = NULL;
	CURLcode rc;
	int ret = -1;

	/* Room for the largest client_id and secret the settings allow,
	 * form-encoded (3x) and base64-encoded (4/3), or a bearer token. */
	ropc_buf_init(&auth, (size_t)64 * 1024);
	errbuf[0] = '\0';
	if (ropc_http_global_init() < 0) {
		snprintf(res->error, sizeof(res->error), "curl_global_init failed");
		goto out;
	}
	h = curl_easy_init();
	if (h == NULL) {
		snprintf(res->error, sizeof(res->error), "curl_easy_init failed");
		goto out;
	}

	headers = curl_slist_append(NULL, "Accept: application/json");
	if (headers == NULL || curl_slist_append(headers, "Expect:") == NULL ||
	    (rq->body != NULL &&
	     curl_slist_append(headers,
			       "Content-Type: application/x-www-form-urlencoded") == NULL)) {
		snprintf(res->error, sizeof(res->error), "out of memory");
		goto out;
	}
	if (rq->basic_id != NULL && rq->basic_secret != NULL) {
		if (ropc_form_basic_header(rq->basic_id, rq->basic_secret, &auth) < 0 ||
		    curl_slist_append(headers, auth.data) == NULL) {
			snprintf(res->error, sizeof(res->error), "out of memory");
			goto out;
		}
	} else if (rq->bearer != NULL) {
		if (ropc_buf_append_str(&auth, "Authorization: Bearer ") < 0 ||
		    ropc_buf_append_str(&auth, rq->bearer) < 0 ||
		    curl_slist_append(headers, auth.data) == NULL) {
			snprintf(res->error, sizeof(res->error), "out of memory");
			goto out;
		}
	}

	SET(CURLOPT_URL, rq->url);
	SET(CURLOPT_PROTOCOLS_STR, "https");
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_MAXREDIRS, 0L);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	/* ca_file or ca_path replaces the system store, it does not add to it:
	 * the one not given is turned off.  ca_file's bytes are the ones read
	 * and checked with the settings (trust.c), not the file again. */
	if (s->ca_data != NULL || s->ca_path != NULL) {
		SET(CURLOPT_CAINFO, (char *)NULL);
		SET(CURLOPT_CAPATH, s->ca_path);
	}
	if (s->ca_data != NULL) {
		struct curl_blob blob = { .data = s->ca_data, .len = s->ca_len,
					  .flags = CURL_BLOB_COPY };

		SET(CURLOPT_CAINFO_BLOB, &blob);
	}
	/* The pin as given, or the hash of the pin file's key as read. */
	if (s->pin != NULL)
		SET(CURLOPT_PINNEDPUBLICKEY, s->pin);
	/* An empty string turns off the proxy variables of the environment;
	 * NOPROXY "" keeps no_proxy from bypassing a configured proxy. */
	SET(CURLOPT_PROXY, s->proxy != NULL ? s->proxy : "");
	SET(CURLOPT_NOPROXY, "");
	SET(CURLOPT_NOSIGNAL, 1L);
	/* Do not wait for a hung DNS lookup at cleanup: the timeout is the
	 * timeout, even when the resolver is not answering. */
	SET(CURLOPT_QUICK_EXIT, 1L);
	{
		long total = s->timeout * 1000L, conn = s->connect_timeout * 1000L;

		/* The caller's own deadline (the device flow's) may be nearer. */
		if (rq->timeout_ms > 0 && rq->timeout_ms < total)
			total = rq->timeout_ms;
		if (conn > total)
			conn = total;
		SET(CURLOPT_CONNECTTIMEOUT_MS, conn);
		SET(CURLOPT_TIMEOUT_MS, total);
	}
	SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)ROPC_MAX_RESPONSE);
	SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	SET(CURLOPT_NETRC, (long)CURL_NETRC_IGNORED);
	SET(CURLOPT_USERAGENT, "pam_ropc/" PACKAGE_VERSION);
	SET(CURLOPT_HTTPHEADER, headers);
	if (rq->body != NULL) {
		SET(CURLOPT_POST, 1L);
		SET(CURLOPT_POSTFIELDS, rq->body->data);
		SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body->len);
	} else {
		SET(CURLOPT_HTTPGET, 1L);
	}
	if (rq->peer)
		SET(CURLOPT_CERTINFO, 1L);
	SET(CURLOPT_WRITEFUNCTION, on_data);
	SET(CURLOPT_WRITEDATA, res);
	SET(CURLOPT_ERRORBUFFER, errbuf);
	/* Only the OpenSSL backend has it; elsewhere the buffers stay as they are. */
	if (curl_easy_setopt(h, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx) != CURLE_OK)
		ropc_debug(ctx, "http: no SSL_CTX callback in this libcurl; "
			   "TLS buffers are not cleansed");

	res->net = ROPC_NET_OK;
	rc = curl_easy_perform(h);
	if (rc != CURLE_OK) {
		/* on_data() sets ROPC_NET_TOO_BIG during curl_easy_perform. */
		/* cppcheck-suppress knownConditionTrueFalse */
		if (res->net != ROPC_NET_TOO_BIG)
			res->net = net_class(rc);
		/* Any request of the login (token, discovery, key set,
		 * introspection, userinfo, device flow) that finds the IdP
		 * down counts for the breaker. */
		if (res->net == ROPC_NET_CONNECT || res->net == ROPC_NET_TIMEOUT)
			ctx->idp_down = true;
		snprintf(res->error, sizeof(res->error), "%s",
			 errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc));
	}
	if (curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &res->status) != CURLE_OK)
		res->status = 0;
	if (rq->peer)
		peer_info(h, res);
	ropc_debug(ctx, "http: %s %s (%s): curl=%d http=%ld bytes=%zu",
		   rq->body != NULL ? "POST" : "GET", rq->url, rq->what != NULL ? rq->what : "",
		   (int)rc, res->status, res->body.len);
	ret = 0;
out:
	if (h != NULL)
		curl_easy_cleanup(h);
	/* The Basic header holds the client secret: wipe our copies. */
	for (tail = headers; tail != NULL; tail = tail->next)
		ropc_wipe(tail->data, strlen(tail->data));
	curl_slist_free_all(headers);
	ropc_buf_free(&auth);
	return ret;
}
