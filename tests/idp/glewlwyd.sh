#!/bin/sh
# glewlwyd.sh: test harness that runs a REAL Glewlwyd IdP (Debian package
# `glewlwyd`, 2.7.x) on loopback over HTTPS, for the pam_ropc tests.
#
#   glewlwyd.sh start DIR             start a private instance, configure it, write DIR/env
#   glewlwyd.sh stop DIR              stop it (TERM, then KILL); idempotent
#   glewlwyd.sh introspect DIR TOKEN  RFC 7662 introspection of TOKEN ("-": read it from stdin)
#
# "start" makes DIR if needed and puts everything there:
#   DIR/pki/              throw-away PKI from mkcerts.sh (ca.pem, server.pem/.key, ...)
#                         plus jwt.key/jwt.pub, the RSA key the IdP signs its tokens with
#   DIR/glewlwyd.conf     private server config: 127.0.0.1 only, a free port, HTTPS
#   DIR/glewlwyd.db       private SQLite DB, from the package's init.sqlite3.sql
#   DIR/glewlwyd.pid      server pid;  DIR/glewlwyd.log  server log (console mode, stdout+stderr)
#   DIR/env               KEY='value' lines, safe to `. DIR/env` from sh or bash
#   DIR/env.json          the same keys as a JSON object (for Python)
#   DIR/client.curlrc     curl config holding the client credentials (used by "introspect")
#   DIR/discovery.json    the OIDC plugin's discovery document, as fetched at start
#
# Everything is configured through the admin REST API (admin / password from the
# init SQL, cookie session): the user backend gains a multi-valued property
# "groups"; an OIDC plugin instance "oidc" with the password grant, the device
# authorization grant (RFC 8628: auth-type-device-enabled) and introspection
# enabled; one confidential client allowed both (authorization_type "password"
# and "device_authorization", among others); and the test users:
#   DEMO_USER      alice, enabled, groups DEMO_GROUPS (staff,ssh-users)
#   OTHER_USER     bob, enabled, groups OTHER_GROUPS (staff only: not in ssh-users)
#   DISABLED_USER  dora, enabled:false (its password is correct), groups staff,ssh-users
#   SPECIAL_USER   carol, enabled, groups ssh-users; its password has UTF-8, an
#                  emoji, spaces and & = + % " ' ;
# DIR/env also has ISSUER (the plugin's issuer, https://127.0.0.1:PORT/api/oidc,
# checked against its discovery document at ISSUER/.well-known/openid-configuration),
# DISCOVERY_URL, TOKEN_ENDPOINT, JWKS_URI, INTROSPECT_ENDPOINT, USERINFO_ENDPOINT,
# REVOKE_ENDPOINT and DEVICE_AUTHORIZATION_ENDPOINT (each checked to be what the
# discovery document names), DEVICE_VERIFICATION_URI (where a person approves a
# user code), DEVICE_EXPIRATION and DEVICE_INTERVAL (the plugin's settings, s).
#
# Nothing here ever talks to anything but 127.0.0.1. Needs: glewlwyd, curl,
# openssl, jq, python3 (free-port probe) and sqlite3 (or python3) for the DB.
#
# Glewlwyd behaviour the tests can rely on (measured against 2.7.5):
#   - token endpoint errors have an EMPTY body: 403 for a wrong password, an
#     unknown user or a disabled user; 400 for a bad/unknown client secret;
#   - client_secret_basic and client_secret_post both work for this client;
#     Basic credentials are not url-decoded by Glewlwyd, so the generated
#     client id/secret only use characters that need no encoding;
#   - "sub" is opaque (random, stable per user) in the id_token, the access
#     token, userinfo and introspection; the user name is elsewhere:
#       id_token, userinfo  "preferred_username" (claims setting, added here)
#       access token        "preferred_username" (additional-parameters, added here)
#       introspection       "username" -- the name AS SENT in the password grant
#   - user names are looked up case-insensitively: "ALICE" gets alice's tokens,
#     preferred_username "alice" (the stored name), introspection username "ALICE";
#   - groups: the id_token and userinfo carry a JSON array, "groups":
#     ["staff","ssh-users"] (claims setting, mandatory); the access token ONE
#     comma-separated string, "groups": "staff,ssh-users" (additional-parameters
#     join multi-valued properties with ","); introspection carries no groups;
#   - id_token: RS256 (header typ JWT, kid), iss = ISSUER, aud = the client_id
#     (a string), azp = client_id, no nonce, plus name, auth_time, amr, at_hash;
#   - access token: RS256 JWT (header typ at+jwt, kid), iss = ISSUER, aud = the
#     granted scope list ("openid"), client_id, scope, jti, type "access_token";
#   - jwks: one RSA key, alg RS256, kid, no "use"; discovery and jwks answer
#     with Cache-Control: no-store;
#   - introspection (RFC 7662; discovery lists only client_secret_basic, but
#     client_id/client_secret in the body work too) answers active, username,
#     sub, client_id, aud ("openid"), scope, token_type, iat/nbf/exp;
#   - Glewlwyd's log (INFO) has one line per token it grants ("Access token
#     generated for client ... granted by user 'NAME' ..."), but none for
#     discovery, jwks or introspection requests, not even at DEBUG.
#   - device authorization grant (plugin parameters auth-type-device-enabled,
#     device-authorization-expiration, device-authorization-interval; the client
#     needs authorization_type "device_authorization"): POST
#     ISSUER/device_authorization (client authenticated, scope=) -> 200
#     {device_code, user_code "XXXX-XXXX" (A-Z without I, 0-9), verification_uri
#     ISSUER/device, verification_uri_complete ISSUER/device?code=USER_CODE,
#     expires_in, interval}.  The token endpoint answers the device_code grant with
#     400 authorization_pending, slow_down (a poll less than `interval` whole
#     seconds after the previous one), expired_token, or the tokens (id_token with
#     the same claims as the password grant; introspection's username is then the
#     stored name).  There is no JSON API to approve: a person approves in the
#     login web app, which calls POST /api/auth/ (username, password: session
#     cookie), PUT /api/auth/grant/CLIENT_ID {"scope": ...} (consent; the scope
#     openid alone needs none) and GET ISSUER/device?code=USER_CODE&g_continue, which
#     redirects (302) to login.html?...&prompt=deviceComplete once approved, or
#     prompt=deviceCodeError for an unknown, already used or wrongly-cased code
#     (user codes are matched exactly); without g_continue, or with no session, it
#     redirects to the login page and approves nothing.  Nothing in 2.7.5 lets the
#     person refuse a code: it is approved or it expires.  The token endpoint says
#     400 access_denied only for a device code it does not know, already used, or
#     disabled (with the user's data in the plugin; source: protocol_oidc.c).
set -eu

PROG=${0##*/}
HERE=$(cd "$(dirname "$0")" && pwd)
GLEWLWYD_BIN=${GLEWLWYD_BIN:-glewlwyd}
INIT_SQL=${GLEWLWYD_INIT_SQL:-/usr/share/doc/glewlwyd/database/init.sqlite3.sql.gz}
MODULE_ROOT=${GLEWLWYD_MODULE_ROOT:-/usr/lib/glewlwyd}
START_TIMEOUT=${GLEWLWYD_START_TIMEOUT:-20}   # seconds to wait for the server to answer
STOP_TIMEOUT=${GLEWLWYD_STOP_TIMEOUT:-10}     # seconds between TERM and KILL

# Fixed test identities. The secrets are for a throw-away loopback IdP only.
ADMIN_USER='admin'
ADMIN_PASSWORD='password'
CLIENT_ID=pam-ropc-test
DEMO_USER=alice
DEMO_PASSWORD='Wonderland-42'
DEMO_GROUPS='staff,ssh-users'
OTHER_USER=bob
OTHER_PASSWORD='Builder-42'
OTHER_GROUPS='staff'
DISABLED_USER=dora
DISABLED_PASSWORD='Explorer-42'
SPECIAL_USER=carol
SPECIAL_PASSWORD='pä ss&=+%"'\''😀 w0rd'
SPECIAL_GROUPS='ssh-users'
SCOPE=openid
PLUGIN=oidc
# Device authorization grant (RFC 8628): Glewlwyd's own defaults, written out.
DEVICE_EXPIRATION=600   # expires_in of a device code (s)
DEVICE_INTERVAL=5       # interval (s); a poll sooner than this after the last -> slow_down

die() { echo "$PROG: $*" >&2; exit 1; }
usage() { echo "usage: $PROG start DIR | stop DIR | introspect DIR TOKEN|-" >&2; exit 2; }

need() {
	for _c in "$@"; do
		command -v "$_c" >/dev/null 2>&1 || die "required command not found: $_c"
	done
}

# absolute path of $1 (which must exist)
abspath() { (cd "$1" && pwd); }

# Sleep a fraction of a second; busybox/dash may lack fractional sleep.
nap() { sleep 0.1 2>/dev/null || sleep 1; }

# Is pid $1 a live (non-zombie) process?
alive() {
	kill -0 "$1" 2>/dev/null || return 1
	if [ -r "/proc/$1/stat" ]; then
		# field 3 of /proc/PID/stat is the state; the comm field may contain
		# spaces, so cut after the closing parenthesis.
		_st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || _st=
		[ "$_st" != Z ] || return 1
	fi
	return 0
}

# Is pid $1 a glewlwyd process (guards against a recycled pid)?
is_glewlwyd() {
	if [ -r "/proc/$1/comm" ]; then
		[ "$(cat "/proc/$1/comm" 2>/dev/null)" = glewlwyd ]
	else
		ps -p "$1" -o comm= 2>/dev/null | grep -q glewlwyd
	fi
}

free_port() {
	python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

log_tail() {
	echo "---- last lines of $1 ----" >&2
	tail -n "${2:-30}" "$1" >&2 2>/dev/null || true
	echo "----" >&2
}

# Quote a value for a sh/bash-sourceable KEY='value' line.
shquote() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }

# ---------------------------------------------------------------- admin API
# api METHOD PATH [JSON-TEXT]: call the admin API with the session cookie;
# fail loudly (return 1) on anything but HTTP 200.
api() {
	set -- "$1" "$2" "${3-}"
	if [ -n "$3" ]; then
		(umask 077; printf '%s' "$3" > "$DIR/api.in") || return 1
		set -- "$1" "$2" -H 'Content-Type: application/json' --data-binary "@$DIR/api.in"
	else
		set -- "$1" "$2"
	fi
	_m=$1 _p=$2
	shift 2
	_code=$(curl -sS --cacert "$CA_FILE" --max-time 10 -o "$DIR/api.out" -w '%{http_code}' \
		-b "$DIR/admin.cookies" -c "$DIR/admin.cookies" -X "$_m" "$@" \
		"$GLEWLWYD_URL/api/$_p") || _code=000
	if [ "$_code" != 200 ]; then
		echo "$PROG: admin API $_m /api/$_p -> HTTP $_code: $(cat "$DIR/api.out" 2>/dev/null)" >&2
		log_tail "$DIR/glewlwyd.log" 15
		return 1
	fi
	return 0
}

# ---------------------------------------------------------------- start
write_conf() { # port
	cat > "$DIR/glewlwyd.conf" <<EOF
# Private Glewlwyd config written by $PROG for one test run. Loopback only.
port=$1
bind_address="127.0.0.1"
external_url="https://127.0.0.1:$1"
login_url="login.html"
api_prefix="api"
allow_origin="https://127.0.0.1:$1"
log_mode="console"
log_level="INFO"
cookie_secure=1
cookie_same_site="strict"
session_expiration=3600
session_key="GLEWLWYD2_SESSION_ID"
admin_session_authentication="cookie"
profile_session_authentication="cookie"
allow_multiple_user_per_session=true
login_api_enabled=true
plugin_api_run_enabled=""
max_post_size=1048576
admin_scope="g_admin"
profile_scope="g_profile"
user_module_path="$MODULE_ROOT/user"
client_module_path="$MODULE_ROOT/client"
user_auth_scheme_module_path="$MODULE_ROOT/scheme"
plugin_module_path="$MODULE_ROOT/plugin"
use_secure_connection=true
secure_connection_key_file="$DIR/pki/server.key"
secure_connection_pem_file="$DIR/pki/server.pem"
hash_algorithm="SHA512"
database =
{
  type = "sqlite3"
  path = "$DIR/glewlwyd.db"
};
EOF
}

init_db() {
	rm -f "$DIR/glewlwyd.db"
	if command -v sqlite3 >/dev/null 2>&1; then
		gzip -dc "$INIT_SQL" | sqlite3 "$DIR/glewlwyd.db"
	else
		gzip -dc "$INIT_SQL" | python3 -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1]); c.executescript(sys.stdin.read()); c.commit()' "$DIR/glewlwyd.db"
	fi
	chmod 600 "$DIR/glewlwyd.db"
}

# Launch glewlwyd on a fresh free port and wait until it answers over TLS.
# Returns 1 if it died early (e.g. the port got taken), dies on a timeout.
launch() {
	PORT=$(free_port) || die "free-port probe failed"
	GLEWLWYD_URL="https://127.0.0.1:$PORT"
	# The OIDC plugin's issuer is its own URL, so that discovery is found at
	# ISSUER/.well-known/openid-configuration (the plugin serves it there).
	ISSUER="$GLEWLWYD_URL/api/$PLUGIN"
	write_conf "$PORT" || die "cannot write $DIR/glewlwyd.conf"
	: > "$DIR/glewlwyd.log" || die "cannot write $DIR/glewlwyd.log"
	rm -f "$DIR/glewlwyd.pid"
	# glewlwyd runs under a tiny supervisor shell that only waits for it, so
	# its exit status is collected at once (some container inits reap orphans
	# late, leaving a <defunct> glewlwyd visible to pgrep for a second).
	# stdin/stdout/stderr are all detached from the caller, so a caller that
	# captures our output is not kept waiting by the daemon.
	sh -c 'log=$1 pidf=$2; shift 2
		"$@" </dev/null >>"$log" 2>&1 &
		echo "$!" > "$pidf.tmp" && mv -f "$pidf.tmp" "$pidf"
		wait "$!"' glewlwyd-supervisor "$DIR/glewlwyd.log" "$DIR/glewlwyd.pid" \
		"$GLEWLWYD_BIN" --config-file="$DIR/glewlwyd.conf" </dev/null >/dev/null 2>&1 &
	SUP=$!
	_n=0
	until [ -s "$DIR/glewlwyd.pid" ]; do
		[ "$_n" -lt 50 ] || die "glewlwyd did not start (no pid file)"
		nap; _n=$((_n + 1))
	done
	PID=$(cat "$DIR/glewlwyd.pid")

	# Generate the token-signing key while the server boots.
	if [ ! -s "$DIR/pki/jwt.key" ]; then
		openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
			-out "$DIR/pki/jwt.key" 2>/dev/null || { do_stop ours; die "cannot generate JWT key"; }
		chmod 600 "$DIR/pki/jwt.key"
		openssl pkey -in "$DIR/pki/jwt.key" -pubout -out "$DIR/pki/jwt.pub" 2>/dev/null ||
			{ do_stop ours; die "cannot extract JWT public key"; }
	fi

	_deadline=$(( $(date +%s) + START_TIMEOUT ))
	while :; do
		if ! alive "$PID"; then
			wait "$SUP" 2>/dev/null || true
			rm -f "$DIR/glewlwyd.pid"
			return 1
		fi
		# Any HTTP status means the TLS listener is up (000 = no answer yet).
		_code=$(curl -s --cacert "$CA_FILE" --max-time 2 -o /dev/null -w '%{http_code}' \
			"$GLEWLWYD_URL/api/$PLUGIN/.well-known/openid-configuration" 2>/dev/null) || true
		case $_code in ''|000) ;; *) return 0 ;; esac
		if [ "$(date +%s)" -ge "$_deadline" ]; then
			echo "$PROG: glewlwyd (pid $PID) did not answer on $GLEWLWYD_URL within ${START_TIMEOUT}s" >&2
			log_tail "$DIR/glewlwyd.log"
			do_stop ours
			exit 1
		fi
		nap
	done
}

configure() {
	# Admin login: POST /api/auth/ with the password, cookie session.
	rm -f "$DIR/admin.cookies"
	api POST auth/ "$(jq -cn --arg u "$ADMIN_USER" --arg p "$ADMIN_PASSWORD" \
		'{username: $u, password: $p}')" || return 1
	chmod 600 "$DIR/admin.cookies"

	# The init SQL already has the "database" user and client backends and the
	# scopes g_admin, g_profile and openid. No scheme instance is needed: the
	# password grant only checks the user backend password.
	#
	# The user backend stores only the properties its "data-format" names:
	# add "groups" (multiple values, readable by plugins) to the ones the init
	# SQL declares, so the OIDC plugin can put it into the tokens.
	api GET mod/user/database || return 1
	api PUT mod/user/database "$(jq -c '{display_name, order_rank: (.order_rank // 0),
		readonly: (.readonly // false),
		parameters: (.parameters * {"data-format": {groups: {multiple: true, read: true,
			write: true, "profile-read": true, "profile-write": false}}})}' "$DIR/api.out")" ||
		return 1
	# PUT only stores the parameters; "reset" restarts the instance with them.
	api PUT mod/user/database/reset || return 1

	# OIDC plugin. Note: Glewlwyd keeps a plugin row even when POST fails
	# validation, so on a fresh DB this must be right the first time.
	api POST mod/plugin/ "$(jq -cn \
		--arg name "$PLUGIN" --arg iss "$ISSUER" \
		--argjson devexp "$DEVICE_EXPIRATION" --argjson devint "$DEVICE_INTERVAL" \
		--rawfile key "$DIR/pki/jwt.key" --rawfile cert "$DIR/pki/jwt.pub" '{
		module: "oidc", name: $name, display_name: "pam_ropc test OIDC",
		parameters: {
			iss: $iss,
			"jwt-type": "rsa", "jwt-key-size": "256", key: $key, cert: $cert,
			"access-token-duration": 3600,
			"refresh-token-duration": 1209600,
			"code-duration": 600,
			"refresh-token-rolling": false,
			"allow-non-oidc": true,
			"auth-type-code-enabled": false,
			"auth-type-token-enabled": false,
			"auth-type-id-token-enabled": true,
			"auth-type-none-enabled": false,
			"auth-type-password-enabled": true,
			"auth-type-client-enabled": false,
			"auth-type-device-enabled": true,
			"device-authorization-expiration": $devexp,
			"device-authorization-interval": $devint,
			"auth-type-refresh-enabled": true,
			"subject-type": "public",
			"name-claim": "mandatory",
			"email-claim": "no",
			"claims": [
				{name: "preferred_username", "user-property": "username",
				 type: "string", mandatory: true, "on-demand": false, scope: []},
				{name: "groups", "user-property": "groups",
				 type: "string", mandatory: true, "on-demand": false, scope: []}],
			"additional-parameters": [
				{"user-parameter": "username", "token-parameter": "preferred_username"},
				{"user-parameter": "groups", "token-parameter": "groups"}],
			"introspection-revocation-allowed": true,
			"introspection-revocation-allow-target-client": true,
			"introspection-revocation-auth-scope": []
		}}')" || return 1

	# Confidential client. token_endpoint_auth_method must be set: without it
	# Glewlwyd answers the password grant with HTTP 500.
	CLIENT_SECRET=s-$(openssl rand -hex 16)
	api POST client/ "$(jq -cn --arg id "$CLIENT_ID" --arg sec "$CLIENT_SECRET" '{
		client_id: $id, name: "pam_ropc tests", enabled: true, confidential: true,
		client_secret: $sec,
		authorization_type: ["password", "refresh_token", "client_credentials",
			"device_authorization"],
		token_endpoint_auth_method: ["client_secret_basic", "client_secret_post"],
		scope: ["openid"], redirect_uri: []}')" || return 1

	add_user() { # username password enabled name groups (comma list)
		api POST user/ "$(jq -cn --arg u "$1" --arg p "$2" --argjson en "$3" --arg n "$4" \
			--arg g "$5" '{username: $u, password: $p, name: $n, email: "",
			scope: ["openid"], enabled: $en, groups: ($g | split(","))}')"
	}
	add_user "$DEMO_USER" "$DEMO_PASSWORD" true "Alice Demo" "$DEMO_GROUPS" || return 1
	add_user "$OTHER_USER" "$OTHER_PASSWORD" true "Bob Other" "$OTHER_GROUPS" || return 1
	add_user "$DISABLED_USER" "$DISABLED_PASSWORD" false "Dora Disabled" "$DEMO_GROUPS" ||
		return 1
	add_user "$SPECIAL_USER" "$SPECIAL_PASSWORD" true "Carol Special" "$SPECIAL_GROUPS" ||
		return 1
	rm -f "$DIR/api.in" "$DIR/api.out"
}

# The plugin's discovery document must be at ISSUER/.well-known/openid-configuration
# and name ISSUER and the endpoints written to DIR/env, exactly.
check_discovery() {
	_base="$GLEWLWYD_URL/api/$PLUGIN"
	if ! curl -sS --cacert "$CA_FILE" --max-time 10 -f -o "$DIR/discovery.json" \
		"$ISSUER/.well-known/openid-configuration"; then
		do_stop ours
		die "no discovery document at $ISSUER/.well-known/openid-configuration"
	fi
	if ! jq -e --arg iss "$ISSUER" --arg b "$_base" '.issuer == $iss and
		.token_endpoint == $b + "/token" and .jwks_uri == $b + "/jwks" and
		.introspection_endpoint == $b + "/introspect" and
		.userinfo_endpoint == $b + "/userinfo" and .revocation_endpoint == $b + "/revoke" and
		.device_authorization_endpoint == $b + "/device_authorization"' \
		"$DIR/discovery.json" >/dev/null; then
		echo "$PROG: the discovery document does not name $ISSUER and its endpoints:" >&2
		jq '{issuer, token_endpoint, jwks_uri, introspection_endpoint, userinfo_endpoint,
			revocation_endpoint, device_authorization_endpoint}' "$DIR/discovery.json" >&2 || cat "$DIR/discovery.json" >&2
		do_stop ours
		exit 1
	fi
}

write_env() {
	_base="$GLEWLWYD_URL/api/$PLUGIN"
	# name/value pairs, in order; written to both env and env.json
	set -- \
		GLEWLWYD_URL "$GLEWLWYD_URL" \
		GLEWLWYD_PORT "$PORT" \
		GLEWLWYD_PID "$PID" \
		ISSUER "$ISSUER" \
		DISCOVERY_URL "$_base/.well-known/openid-configuration" \
		TOKEN_ENDPOINT "$_base/token" \
		INTROSPECT_ENDPOINT "$_base/introspect" \
		REVOKE_ENDPOINT "$_base/revoke" \
		USERINFO_ENDPOINT "$_base/userinfo" \
		JWKS_URI "$_base/jwks" \
		DEVICE_AUTHORIZATION_ENDPOINT "$_base/device_authorization" \
		DEVICE_VERIFICATION_URI "$_base/device" \
		DEVICE_EXPIRATION "$DEVICE_EXPIRATION" \
		DEVICE_INTERVAL "$DEVICE_INTERVAL" \
		CA_FILE "$CA_FILE" \
		CLIENT_ID "$CLIENT_ID" \
		CLIENT_SECRET "$CLIENT_SECRET" \
		SCOPE "$SCOPE" \
		DEMO_USER "$DEMO_USER" \
		DEMO_PASSWORD "$DEMO_PASSWORD" \
		DEMO_GROUPS "$DEMO_GROUPS" \
		OTHER_USER "$OTHER_USER" \
		OTHER_PASSWORD "$OTHER_PASSWORD" \
		OTHER_GROUPS "$OTHER_GROUPS" \
		DISABLED_USER "$DISABLED_USER" \
		DISABLED_PASSWORD "$DISABLED_PASSWORD" \
		SPECIAL_USER "$SPECIAL_USER" \
		SPECIAL_PASSWORD "$SPECIAL_PASSWORD" \
		SPECIAL_GROUPS "$SPECIAL_GROUPS" \
		ADMIN_USER "$ADMIN_USER" \
		ADMIN_PASSWORD "$ADMIN_PASSWORD"
	: > "$DIR/env.tmp"
	chmod 600 "$DIR/env.tmp"
	echo "# written by $PROG start; source with: . $DIR/env" >> "$DIR/env.tmp"
	jq -n '[$ARGS.positional | _nwise(2) | {(.[0]): .[1]}] | add' --args "$@" \
		> "$DIR/env.json.tmp" || die "cannot write env.json"
	chmod 600 "$DIR/env.json.tmp"
	while [ $# -ge 2 ]; do
		printf '%s=%s\n' "$1" "$(shquote "$2")" >> "$DIR/env.tmp"
		shift 2
	done
	mv -f "$DIR/env.tmp" "$DIR/env"
	mv -f "$DIR/env.json.tmp" "$DIR/env.json"

	# curl config for the introspect command (credentials stay off argv).
	printf 'user = "%s:%s"\n' "$CLIENT_ID" "$CLIENT_SECRET" > "$DIR/client.curlrc"
	chmod 600 "$DIR/client.curlrc"
}

do_start() {
	need "$GLEWLWYD_BIN" curl openssl jq python3 gzip
	[ -r "$INIT_SQL" ] || die "cannot read $INIT_SQL"
	mkdir -p "$DIR"
	DIR=$(abspath "$DIR")
	if [ -f "$DIR/glewlwyd.pid" ]; then
		_old=$(cat "$DIR/glewlwyd.pid" 2>/dev/null || true)
		if [ -n "$_old" ] && alive "$_old" && is_glewlwyd "$_old"; then
			die "glewlwyd already running for $DIR (pid $_old); run: $PROG stop $DIR"
		fi
		rm -f "$DIR/glewlwyd.pid"
	fi
	rm -f "$DIR/env" "$DIR/env.json" "$DIR/client.curlrc" "$DIR/admin.cookies"

	sh "$HERE/mkcerts.sh" "$DIR/pki" || die "mkcerts.sh failed"
	CA_FILE="$DIR/pki/ca.pem"
	init_db

	# A probed port can be taken by someone else before glewlwyd binds it:
	# retry a few times with a new port.
	_try=1
	until launch; do
		if [ "$_try" -ge 3 ]; then
			echo "$PROG: glewlwyd exited during startup ($_try attempts)" >&2
			log_tail "$DIR/glewlwyd.log"
			exit 1
		fi
		echo "$PROG: glewlwyd exited during startup, retrying on another port" >&2
		log_tail "$DIR/glewlwyd.log" 5
		_try=$((_try + 1))
		init_db
	done

	if ! configure; then
		do_stop ours
		die "configuration through the admin API failed"
	fi
	check_discovery
	write_env
	echo "$PROG: glewlwyd pid $PID listening on $GLEWLWYD_URL; env in $DIR/env"
}

# ---------------------------------------------------------------- stop
# wait_gone PID TENTHS: wait until PID no longer exists. Returns 0 when gone,
# 2 if only a zombie is left when time is up, 1 if it is still running.
wait_gone() {
	_n=0
	while kill -0 "$1" 2>/dev/null; do
		if [ "$_n" -ge "$2" ]; then
			alive "$1" && return 1
			return 2
		fi
		nap; _n=$((_n + 1))
	done
	return 0
}

# do_stop [ours]: "ours" skips the check that the pid is still a glewlwyd
# (used during start, when the pid is certainly the one just launched).
do_stop() {
	[ -d "$DIR" ] || return 0
	[ -f "$DIR/glewlwyd.pid" ] || return 0
	_pid=$(cat "$DIR/glewlwyd.pid" 2>/dev/null || true)
	case $_pid in ''|*[!0-9]*) rm -f "$DIR/glewlwyd.pid"; return 0 ;; esac
	if alive "$_pid" && { [ "${1-}" = ours ] || is_glewlwyd "$_pid"; }; then
		kill -TERM "$_pid" 2>/dev/null || true
		_rc=0
		wait_gone "$_pid" $((STOP_TIMEOUT * 10)) || _rc=$?
		if [ "$_rc" = 1 ]; then
			echo "$PROG: glewlwyd pid $_pid ignored TERM for ${STOP_TIMEOUT}s, sending KILL" >&2
			kill -KILL "$_pid" 2>/dev/null || true
			_rc=0
			wait_gone "$_pid" 50 || _rc=$?
			[ "$_rc" != 1 ] || die "glewlwyd pid $_pid survived KILL"
		fi
	fi
	rm -f "$DIR/glewlwyd.pid"
	return 0
}

# ---------------------------------------------------------------- introspect
do_introspect() {
	need curl
	[ -r "$DIR/env" ] || die "no $DIR/env: is the IdP started?"
	# shellcheck disable=SC1091
	. "$DIR/env"
	if [ "$1" = - ]; then
		_tok=$(cat)
	else
		_tok=$1
	fi
	[ -n "$_tok" ] || die "empty token"
	# The token goes to curl on stdin, the client credentials in a config file.
	_out=$(printf '%s' "$_tok" | curl -sS --cacert "$CA_FILE" --max-time 10 \
		-K "$DIR/client.curlrc" -w '\n%{http_code}' \
		--data-urlencode 'token@-' "$INTROSPECT_ENDPOINT") || die "introspection request failed"
	_code=${_out##*"
"}
	_body=${_out%"
"*}
	printf '%s\n' "$_body"
	[ "$_code" = 200 ] || die "introspection answered HTTP $_code"
}

# ---------------------------------------------------------------- main
[ $# -ge 2 ] || usage
CMD=$1
DIR=$2
[ -n "$DIR" ] || usage
case $CMD in
start) [ $# -eq 2 ] || usage; do_start ;;
stop) [ $# -eq 2 ] || usage; do_stop ;;
introspect) [ $# -eq 3 ] || usage; do_introspect "$3" ;;
*) usage ;;
esac
