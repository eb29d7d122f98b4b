/*
 * fetch.c: published documents through the cache (see fetch.h).
 */
#include "fetch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <json-c/json.h>

#include "cache.h"
#include "http.h"
#include "logging.h"
#include "options.h"
#include "response.h"

/* A stale copy serves for this long past cache_ttl. */
#define STALE_GRACE (24L * 3600)

long
ropc_fetch_cached_age(struct ropc_ctx *ctx, const char *kind, const char *url, size_t max)
{
	char *data = NULL;
	size_t len = 0;
	time_t mtime = 0;
	long age;

	if (ropc_cache_read(ctx, ctx->settings->cache_dir, kind, url, max, &data, &len,
			    &mtime) != 0)
		return -1;
	free(data);
	age = (long)(time(NULL) - mtime);
	return age < 0 ? 0 : age;
}

/* Whether body (len bytes) is one JSON object. */
static bool
is_json_object(const char *body, size_t len, char *why, size_t whysize)
{
	struct json_object *o = ropc_json_object_parse(body, len, why, whysize);

	if (o == NULL)
		return false;
	ropc_json_object_done(o);
	return true;
}

int
ropc_fetch_doc(struct ropc_ctx *ctx, const char *kind, const char *url, size_t max,
	       bool refresh, ropc_fetch_valid valid, void *arg, char **data, size_t *len,
	       enum ropc_fetch_source *source, long *age, char *why, size_t whysize)
{
	const struct ropc_settings *s = ctx->settings;
	struct ropc_http_request rq = { .url = url, .what = kind };
	struct ropc_http_result res;
	char *cached = NULL, jwhy[160];
	size_t cached_len = 0;
	time_t mtime = 0;
	long cached_age = -1;
	int rc = -1;
	bool refused = false, transient = false;

	*data = NULL;
	*len = 0;
	if (ropc_cache_read(ctx, s->cache_dir, kind, url, max, &cached, &cached_len, &mtime) == 0 &&
	    (!is_json_object(cached, cached_len, jwhy, sizeof(jwhy)) ||
	     (valid != NULL && !valid(ctx, cached, cached_len, arg, jwhy, sizeof(jwhy))))) {
		/* A bad entry is never trusted and never fatal: fetch anew. */
		ropc_log(ctx, LOG_WARNING, "cache: the %s entry for %s is ignored: %s", kind, url,
			 jwhy);
		free(cached);
		cached = NULL;
	}
	if (cached != NULL) {
		cached_age = (long)(time(NULL) - mtime);
		if (cached_age < 0)
			cached_age = 0;
		if (!refresh && cached_age < s->cache_ttl) {
			*data = cached;
			*len = cached_len;
			*source = ROPC_FETCH_CACHE;
			*age = cached_age;
			ropc_debug(ctx, "fetch: %s %s from the cache (%ld s old)", kind, url,
				   cached_age);
			return 0;
		}
	}

	ropc_http_result_init(&res);
	if (ropc_http_request(ctx, &rq, &res) < 0) {
		snprintf(why, whysize, "%s: %s", kind, res.error);
	} else if (res.net != ROPC_NET_OK) {
		/* The IdP cannot be reached: a stale copy may serve.  Not for a
		 * TLS failure or an oversized answer: those are no outage. */
		transient = res.net == ROPC_NET_CONNECT || res.net == ROPC_NET_TIMEOUT ||
			    res.net == ROPC_NET_ERROR;
		snprintf(why, whysize, "%s %s: %s", kind, url,
			 res.net == ROPC_NET_TOO_BIG ? "answer larger than the 256 KiB cap" :
			 res.net == ROPC_NET_TIMEOUT ? "timed out" :
			 res.net == ROPC_NET_TLS ? "TLS failure" :
			 res.net == ROPC_NET_CONNECT ? "no connection" : "transfer failed");
	} else if (res.status != 200) {
		transient = res.status >= 500 || res.status == 429;
		snprintf(why, whysize, "%s %s: HTTP %ld%s", kind, url, res.status,
			 res.status >= 300 && res.status < 400 ? " (redirect not followed)" : "");
	} else if (res.body.len > max) {
		snprintf(why, whysize, "%s %s: %zu bytes, more than the %zu allowed", kind, url,
			 res.body.len, max);
	} else if (!is_json_object(res.body.data != NULL ? res.body.data : "", res.body.len,
				   jwhy, sizeof(jwhy))) {
		snprintf(why, whysize, "%s %s: %s", kind, url, jwhy);
	} else if (valid != NULL && !valid(ctx, res.body.data, res.body.len, arg, jwhy,
					   sizeof(jwhy))) {
		snprintf(why, whysize, "%s", jwhy);
		refused = true;
	} else if (res.body.data == NULL) {
		snprintf(why, whysize, "%s %s: empty answer", kind, url);
	} else {
		*data = malloc(res.body.len + 1);
		if (*data == NULL) {
			snprintf(why, whysize, "out of memory");
		} else {
			memcpy(*data, res.body.data, res.body.len);
			(*data)[res.body.len] = '\0';
			*len = res.body.len;
			*source = ROPC_FETCH_NETWORK;
			*age = 0;
			(void)ropc_cache_write(ctx, s->cache_dir, kind, url, *data, *len);
			rc = 0;
		}
	}
	ropc_http_result_free(&res);
	if (rc == 0) {
		free(cached);
		return 0;
	}
	/* The IdP cannot be reached or fails (no connection, timeout, 5xx):
	 * a stale copy serves for a while.  Never after a refusal, a
	 * redirect or a wrong document: that is no outage to ride out. */
	if (transient && cached != NULL && cached_age < s->cache_ttl + STALE_GRACE) {
		ropc_log(ctx, LOG_WARNING, "fetch: %s; using the cached copy, %ld s old", why,
			 cached_age);
		*data = cached;
		*len = cached_len;
		*source = ROPC_FETCH_STALE;
		*age = cached_age;
		return 0;
	}
	free(cached);
	return refused ? -2 : transient ? -3 : -1;
}
