/*
 * http.h: one request to the IdP (the token endpoint, and for token
 * verification discovery, the JWKS, introspection and userinfo), over a
 * hardened libcurl handle.
 * The result is plain data (no libcurl types), so that classification can
 * be tested and fuzzed without a network.
 */
#ifndef ROPC_HTTP_H
#define ROPC_HTTP_H

#include "buf.h"
#include "options.h"

#define ROPC_MAX_RESPONSE ((size_t)256 * 1024)

enum ropc_net {
	ROPC_NET_OK = 0,        /* an HTTP answer arrived whole */
	ROPC_NET_CONNECT,       /* no connection: refused, unreachable, DNS */
	ROPC_NET_TIMEOUT,       /* connect_timeout or timeout ran out */
	ROPC_NET_TLS,           /* handshake, certificate, host name or pin */
	ROPC_NET_TOO_BIG,       /* the answer passed ROPC_MAX_RESPONSE */
	ROPC_NET_ERROR,         /* anything else (broken connection, ...) */
};

struct ropc_http_result {
	enum ropc_net net;
	long status;            /* HTTP status, 0 when none */
	struct ropc_buf body;   /* raw answer, wiped when freed */
	char error[256];        /* libcurl's explanation, no secrets */
	/* With rq->peer (ropcctl discover): the server's certificate. */
	char peer_subject[256];
	char peer_issuer[256];
	char peer_expiry[64];
	char peer_pin[80];      /* "sha256//<base64>", as pinned_public_key takes it */
};

/* Start the library once per process (thread-safe).  0 or -1. */
ROPC_HIDDEN int ropc_http_global_init(void);

/*
 * POST body (form-urlencoded) to settings->token_endpoint with the
 * configured client authentication.  Fills *res (the caller frees it with
 * ropc_http_result_free).  Returns 0 when res says what happened, -1 when
 * the request could not even be set up (out of memory, libcurl refusing an
 * option); res->error then says why.
 */
ROPC_HIDDEN int ropc_http_post(struct ropc_ctx *ctx, const struct ropc_buf *body,
			       struct ropc_http_result *res);

/* One request of the module's own to an https URL of the IdP. */
struct ropc_http_request {
	const char *url;                /* checked https URL */
	const struct ropc_buf *body;    /* a form to POST, or NULL for a GET */
	const char *basic_id;           /* HTTP Basic client authentication, */
	const char *basic_secret;       /* when both are set */
	const char *bearer;             /* Authorization: Bearer, when set */
	const char *what;               /* for the debug log: "jwks", ... */
	long timeout_ms;                /* a tighter bound than timeout, when > 0 */
	bool peer;                      /* fill the peer_* members of the result */
};

/* Send rq as ropc_http_post does (same hardening, timeouts and cap);
 * returns and fills *res the same way. */
ROPC_HIDDEN int ropc_http_request(struct ropc_ctx *ctx, const struct ropc_http_request *rq,
				  struct ropc_http_result *res);

ROPC_HIDDEN void ropc_http_result_init(struct ropc_http_result *res);
ROPC_HIDDEN void ropc_http_result_free(struct ropc_http_result *res);

#endif
