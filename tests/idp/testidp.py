#!/usr/bin/env python3
"""testidp.py - a scriptable HTTPS stand-in for an OAuth2 token endpoint
and an OpenID Connect provider.

The pam_ropc test suite starts this on loopback and points the module at
    https://127.0.0.1:<port>/s/<scenario>/token
Each scenario plays one answer a real IdP (OneLogin, Keycloak, Okta, Entra ID,
Glewlwyd) or a hostile network can give.  The /s/ side is stateless: the
answer depends only on the URL (and, for `password`, on the submitted
password), so parallel tests can share one server.  The OpenID Connect side
(/o/<profile>/..., below) keeps state in memory, all of it per profile
string and thread safe: the access tokens it issued (for introspection and
userinfo), which profiles were rotated, the mfa_tokens it handed out and the
device codes of the device flow; a `tag_<word>` flag gives a test a profile
of its own.

Standard library only (Debian 12: python3 3.11).

Usage
  testidp.py --cert server.pem --key server.key --port-file F --log F
             [--host 127.0.0.1] [--port 0] [--tls-min V] [--tls-max V]
             [--plain-tcp-mode accept_silent|plain_http] [--events F]
             [--max-lifetime 600] [--verbose]
  testidp.py --list-scenarios [--json]
  testidp.py --list-flags [--json]

  V is one of 1.0 1.1 1.2 1.3.  When either bound is below 1.2 the server
  also drops to OpenSSL security level 0 (ciphers "DEFAULT:@SECLEVEL=0"):
  OpenSSL 3 refuses TLS 1.0/1.1 at level 1 and above, so without that the
  server could not speak them at all.  `--tls-min 1.1 --tls-max 1.1`: a
  server that speaks TLS 1.1 and nothing else.
  --host must be a loopback address.
  The port number is written to --port-file (tmp file + rename) once the
  socket is listening; callers wait for that file to appear.
  SIGTERM/SIGINT/SIGHUP: clean exit 0.  After --max-lifetime seconds the
  server exits by itself with status 3.

Other endpoints
  GET /health     -> 200 "ok"          (not logged)
  GET /scenarios  -> 200 JSON {name: status}   (not logged)
  Every other request is logged (one JSON line, ASCII-only, see log_request).

Query parameters accepted on any /s/<scenario>/token URL
  delay=SECONDS      wait this long (after reading and logging the request)
                     before answering (also on every /o/<profile>/... URL)
  interval=SECONDS   byte interval for slow_drip / slow_body (default 1)

OpenID Connect side
  A profile is one path segment of flags joined by "+" ("es256+groups_string",
  "rs256+tag_t42").  Its issuer is https://HOST:PORT/o/<profile> (HOST in
  brackets for ::1), and under it:
    GET  /.well-known/openid-configuration   discovery (issuer, token_endpoint,
         jwks_uri, introspection_endpoint, userinfo_endpoint,
         device_authorization_endpoint, ...; grant_types_supported lists no
         "password", as Glewlwyd's; id_token_signing_alg_values_supported is
         [the profile's alg])
    GET  /jwks        {"keys": [...]}: the key the profile signs with (RS*/PS*:
                      rsa1, or rsa2 once rotated; ES256/384/512: ec256, ec384,
                      ec521; HS*: rsa1/rsa2 with alg RS256, unused)
    POST /token       grant_type=password: password "correct horse" -> 200
                      {access_token, token_type Bearer, expires_in 3600, scope,
                      id_token} (the "login answer" below); any other
                      password -> 400 invalid_grant "Invalid user
                      credentials" (the MFA flags change both, see "MFA").
                      grant_type=urn:ietf:params:oauth:grant-type:device_code
                      -> see "Device flow";
                      grant_type=http://auth0.com/oauth/grant-type/mfa-otp
                      (profiles with mfa_token) -> see "MFA".  Missing
                      grant_type -> 400 invalid_request; other grants -> 400
                      unsupported_grant_type.
    POST /introspect  RFC 7662 (form token=, token_type_hint ignored).  Needs
                      client auth (Authorization header or client_id=), else
                      401 invalid_client.  A token this profile issued and not
                      past its exp: {"active": true, sub, username,
                      preferred_username, client_id, scope, exp, iat, iss, aud,
                      token_type, email, groups, realm_access}; else
                      {"active": false}.
    GET|POST /userinfo  Authorization: Bearer <access token this profile
                      issued> -> {sub, preferred_username, email,
                      email_verified, groups, realm_access}; else 401
                      invalid_token with WWW-Authenticate: Bearer.
    POST /device      RFC 8628 device authorization request, see "Device flow"
    GET  /activate    ?user_code=...: a small HTML page for a person (the
                      code's state, a form that approves or denies it through
                      /control/device); no user_code: a form to type one in;
                      an unknown code: 404 (HTML)
  POST /control/rotate  form profile=<profile>: from now on that profile (the
                      exact segment) signs RS*/PS* with rsa2 and its JWKS
                      holds only rsa2.
  POST /control/device  form user_code=..., action=approve|deny, user=<name>
                      (needed for approve; the user the tokens are for):
                      plays the person at the verification page.  user_code
                      is matched ignoring case, "-" and blanks; profile=
                      optional (restricts the search).  -> 200 {"profile",
                      "user_code", "state": "approved"|"denied", "user"};
                      unknown user_code -> 404 {"error": "unknown_user_code"};
                      a code no longer pending (approved, denied, used,
                      expired) -> 409 {"error": "not_pending", "state": ...};
                      bad or missing action/user -> 400 invalid_request.
  GET  /control/device  ?user_code=... or ?device_code=... (&profile=): the
                      code's state, for tests: {"profile", "device_code",
                      "user_code", "client_id", "scope", "state" (pending |
                      approved | denied | used | expired), "user",
                      "interval" (the current one, after slow_down growth),
                      "expires_in", "created" (epoch s), "polls",
                      "slow_downs"}; unknown -> 404 {"error": "unknown_code"}.
  Both /control/ endpoints are logged with scenario and endpoint "control".
  Unknown flags, a flag given twice, and flags that exclude each other (two
  signing flags, two aud_* flags, ...) -> 404 JSON {"error": "unknown_flag",
  "flag": ...} / {"error": "conflicting_flags", "flags": [...]}.

  Every /o/ request is logged like the others, with "scenario": <profile> and
  "endpoint": discovery | jwks | token | introspect | userinfo | device |
  activate (absent for a path under /o/<profile>/ that is no endpoint).  Every
  record has "time" (time.time() when the request was read), so a test can
  measure the gaps between device-flow polls.

  Client: client_id= in the body, else the Basic user name (form-urldecoded as
  RFC 6749 2.3.1 says), else "test-client"; the secret likewise from
  client_secret= or the Basic password.  HS* tokens are keyed with that secret
  (empty when none was sent).

  A login of user U by client C, honest profile: id_token claims iss, sub
  ("sub-" + first 16 hex digits of sha256(U)), aud C, exp now+3600, iat,
  auth_time, preferred_username U, email U@example.com, groups ["staff",
  "ssh-users"] (bob: ["staff"]), realm_access {"roles": the same}; no nonce,
  no azp.  Scope granted: as requested ("openid profile email" when none).
  The access token is an opaque random string, or with jwt_at a JWT (header
  typ "at+jwt") signed like the id_token with aud = the form's resource or
  "api://default", scope, client_id C, jti, and the same user claims.  The
  forgery/claim/time flags apply to the id_token and to such a JWT access
  token alike; introspection and userinfo tell the honest times, iss and aud
  (the access token's), but follow the user_* and groups_* flags.

  MFA (one of mfa_token, mfa_required_only, otp_param, otp_param_totp,
  otp_append, otp_append_colon at most; the one-time code is always
  "123456"; the answers use the login answer above for the user named):
    mfa_token         the password grant with the right password -> 403
                      {"error": "mfa_required", "error_description": "An MFA
                      challenge is required to complete this request.",
                      "mfa_token": <random>} (Okta direct authentication,
                      Auth0).  The token is remembered with the profile, the
                      user, the client and the scope, for 300 s.  Then
                      grant_type=http://auth0.com/oauth/grant-type/mfa-otp
                      with mfa_token=, otp=, scope= (optional: else the
                      password grant's) and the client:
                        mfa_token missing -> 400 invalid_request
                          "Missing parameter: mfa_token";
                        unknown, expired, already used, or the client is not
                          the one it was issued to -> 400 {"error":
                          "invalid_grant", "error_description": "Invalid
                          mfa_token"};
                        otp not "123456" (or missing) -> 403 {"error":
                          "invalid_grant", "error_description": "Invalid
                          one-time password"} (the mfa_token stays good);
                        otp "123456" -> 200, the login answer for the user of
                          the password grant; the mfa_token is used up.
                      The mfa-otp grant on a profile without mfa_token -> 400
                      unsupported_grant_type.  Discovery's
                      grant_types_supported then also lists the mfa-otp grant.
      mfa_expired     (with mfa_token) every mfa_token is born expired
      mfa_other_user  (with mfa_token) the mfa-otp answer is for "mallory"
      mfa_no_token    (with mfa_token) the mfa_required answer has no
                      mfa_token member (the mfa-otp grant cannot be used)
    mfa_required_only the right password -> 400 invalid_grant, Entra's
                      AADSTS50076 (the /s/entra_mfa body: "AADSTS50076: Due
                      to a configuration change made by your administrator,
                      or because you moved to a new location, you must use
                      multi-factor authentication to access '...'.\\r\\nTrace
                      ID: ...", "error_codes": [50076], suberror, claims,
                      timestamp, trace_id, correlation_id, error_uri); no
                      mfa_token: the device flow is the way in
    otp_param         the password grant succeeds only with the right
                      password and otp=123456 in the same form; else (wrong
                      password, code missing or wrong) always 401 {"error":
                      "invalid_grant", "error_description": "Invalid user
                      credentials"} (Keycloak's conditional OTP)
    otp_param_totp    the same with the parameter totp= (older Keycloak)
    otp_append        the password grant succeeds only with password
                      "correct horse123456"; anything else (the bare password
                      too) -> 400 invalid_grant "Invalid user credentials"
    otp_append_colon  the same with "correct horse:123456"

  Device flow (RFC 8628), on every profile:
    POST /device with the client (client_id= or Basic; neither -> 401
    invalid_client) and scope= -> 200 {"device_code": <random>, "user_code":
    "BCDF-GHJK" (two groups of four of the consonants BCDFGHJKLMNPQRSTVWXZ),
    "verification_uri": issuer + "/activate", "verification_uri_complete":
    issuer + "/activate?user_code=" + user_code, "expires_in": 600,
    "interval": 1}.  The code is remembered with the profile, the client, the
    scope (the login answer's; "openid profile email" when none), its
    creation time, state pending.  The person's part is played by POST
    /control/device (above), by the device_auto flags, or by a human at
    /activate.
    The token endpoint, grant_type=urn:ietf:params:oauth:grant-type:device_code
    with device_code= and the client, checked in this order:
      device_code missing -> 400 invalid_request;
      unknown on this profile, issued to another client, or already used ->
        400 {"error": "invalid_grant", "error_description": ...};
      denied -> 400 {"error": "access_denied", ...} (on every later poll too);
      older than expires_in -> 400 {"error": "expired_token", ...};
      the first poll with device_slow_down, or a poll sooner than the code's
        current interval after the previous poll of that code (the first poll
        is never too soon without device_slow_down; 20 ms of slack) -> 400
        {"error": "slow_down", ...} and the code's interval grows by 5 s
        (RFC 8628 3.5), for good;
      approved -> 200, the login answer for the approving user, the code's
        client and scope; the code is used up (a second poll: invalid_grant);
      else -> 400 {"error": "authorization_pending", ...}.
    Every poll of a known code by its client, until the code is used, counts
    (in "polls", for device_auto, and as the "previous poll" of the next
    one), whatever it answered.  With no interval in the answer (device_interval_none) the
    server expects the RFC's default, 5 s.
    Flags:
      device_short          expires_in 10 (and the code expires after 10 s)
      device_interval_none  the answer has no interval (5 s expected)
      device_interval_2     interval 2
      device_slow_down      the first poll of each code answers slow_down
      device_auto           after the second poll of a pending code (whatever
                            it answered) the code is approved as "alice": the
                            third poll gets the tokens
      device_auto_bob       the same, approved as "bob"

  Keys are made with `openssl genpkey` on first use (each once, cached) in a
  private temporary directory removed at exit: rsa1, rsa2, rogue (never
  published), RSA 2048; weak, RSA 1024; ec256, ec384, ec521 (P-256, P-384,
  P-521).  Signatures by `openssl dgst -sign` (PSS: salt length = digest
  length, MGF1 with the same digest; ECDSA turned into raw r||s), HMAC by
  the hmac module.

  Flags (`testidp.py --list-flags` prints this table from the code):
    signing (one at most; default rs256):
      rs256 rs384 rs512 ps256 ps384 ps512  rsa1 (rsa2 once rotated), kid set
      es256 es384 es512                    ec256 / ec384 / ec521, kid set
      hs256 hs384 hs512                    HMAC with the client secret, no kid
    forgery (one at most; hs_with_rsa_pub, rogue_key, weak_rsa need RS*/PS*):
      alg_none            header {"alg":"none","typ":...}, empty signature
      hs_with_rsa_pub     alg HS256, kid rsa1 (rsa2 once rotated), HMAC key =
                          that key's public key PEM text (SPKI, 64-column
                          base64, final newline: what `openssl pkey -pubout`
                          prints)
      rogue_key           signed by "rogue", header kid rsa1
      weak_rsa            signed by the 1024-bit "weak" (kid weak); the JWKS
                          holds only weak (not with ps512: it does not fit)
    kid (one at most): kid_missing (kid "nope", right key), no_kid
    tampered              payload re-encoded after signing with
                          preferred_username "mallory"
    expired               exp now-3600, iat and auth_time now-7200
    nbf_future            nbf now+600
    iat_future            iat now+600
    wrong_iss             iss = issuer + "-other"
    aud (one at most): aud_other (aud "someone-else"), multi_aud (aud [C,
      "other"], no azp), multi_aud_azp (azp C), multi_aud_wrong_azp (azp
      "other").  On a JWT access token the honest audience in place of C.
    no_id_token           the answer has no id_token
    jwks_extra_keys       the JWKS also holds, before the real key, an oct
                          key (kid oct1), an RSA key with d, p, q, dp, dq, qi
                          (kid rsa-private: the rogue key), and an RSA key
                          with use "enc" (kid rsa-enc)
    jwt_at                the access token is a JWT (see above)
    scope_partial         granted scope "openid" whatever was asked
    user (one at most): user_upper (preferred_username U upper-cased),
      user_other ("someone-else"), user_missing (no preferred_username);
      introspection's username follows
    groups (one at most): groups_array (the default), groups_string
      ("staff,ssh-users", bob "staff"; realm_access.roles the same string),
      groups_missing (neither groups nor realm_access)
    intro (one at most): intro_inactive ({"active": false} always),
      intro_active_string ("active": "true"), intro_other_client (client_id
      "someone-else"), intro_clientId ("clientId" in place of "client_id"),
      intro_expired (active, exp now-600), intro_exp_nan (active, exp NaN)
    intro_huge, intro_500 introspection: > 300 KiB valid JSON; status 500
    intro_redirect        introspection: 302 to the same URL + "?redirected=1"
    intro_401             introspection: 401 invalid_client
    userinfo_401          userinfo: 401 invalid_token for every token
    disc_bad_device       discovery: an http:// device_authorization_endpoint
    userinfo_other_sub    userinfo's sub is another user's
    userinfo_no_sub       userinfo answers without sub
    disc_other_issuer     discovery "issuer" = issuer + "-other"
    disc_huge  jwks_huge  > 300 KiB of valid JSON (an "x_padding" member)
    disc_redirect jwks_redirect   302 to the same URL + "?redirected=1",
                          which answers honestly
    disc_500  jwks_500    status 500
    disc_garbage jwks_garbage     200 application/json, an HTML body
    mfa (one at most): mfa_token, mfa_required_only, otp_param,
      otp_param_totp, otp_append, otp_append_colon; mfa_expired,
      mfa_other_user, mfa_no_token need mfa_token (see "MFA")
    device_short, device_slow_down; interval (one at most):
      device_interval_none, device_interval_2; auto (one at most):
      device_auto, device_auto_bob (see "Device flow")
    tag_<word>            no effect: a profile of its own for one test (its
                          log records, its rotation, its mfa_tokens and
                          device codes); word [A-Za-z0-9_.-]{1,64}
"""

import argparse
import atexit
import base64
import binascii
import collections
import hashlib
import hmac
import html
import ipaddress
import json
import os
import re
import secrets
import shutil
import signal
import socket
import socketserver
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse
import uuid
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# --------------------------------------------------------------------------
# globals set up by main()

STOP = threading.Event()          # set when the server is shutting down
CONFIG = {"max_lifetime": 600.0, "verbose": False}
SERVER_INFO = {"scheme": "https", "host": "127.0.0.1", "port": 0}
TL = threading.local()            # per-connection info (conn id, TLS data)
MAX_REQUEST_BODY = 8 * 1024 * 1024
HANDSHAKE_TIMEOUT = 10.0
KEEPALIVE_TIMEOUT = 30.0

KiB = 1024
MiB = 1024 * 1024


class JsonLinesLog:
    """Append-only JSON-lines file, one os.write per line, thread safe."""

    def __init__(self, path):
        self.lock = threading.Lock()
        self.fd = None
        if path:
            self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)

    def write(self, record):
        if self.fd is None:
            return
        data = (json.dumps(record, ensure_ascii=True, sort_keys=False) + "\n").encode("ascii")
        with self.lock:
            view = memoryview(data)
            while view:
                n = os.write(self.fd, view)
                view = view[n:]


REQUEST_LOG = JsonLinesLog(None)
EVENT_LOG = JsonLinesLog(None)
_conn_counter = [0]
_req_counter = [0]
_counter_lock = threading.Lock()


def _next(counter):
    with _counter_lock:
        counter[0] += 1
        return counter[0]


def event(kind, **fields):
    rec = {"time": time.time(), "event": kind}
    rec.update(fields)
    EVENT_LOG.write(rec)


def debug(msg):
    if CONFIG["verbose"]:
        sys.stderr.write("testidp: %s\n" % msg)
        sys.stderr.flush()


# --------------------------------------------------------------------------
# response building blocks

JSON = "application/json"
JSON_UTF8 = "application/json; charset=utf-8"
JSON_KC = "application/json"                      # Keycloak
JSON_ENTRA = "application/json; charset=utf-8"    # Entra ID
JSON_OKTA = "application/json"                    # Okta
JSON_OL = "application/json; charset=utf-8"       # OneLogin
NO_STORE = [("Cache-Control", "no-store"), ("Pragma", "no-cache")]


class Ctx:
    """What a scenario may look at when it builds its answer."""

    def __init__(self, form, basic, query, scenario):
        form = form or {}
        self.form = form
        self.username = (form.get("username") or [""])[0]
        self.password = (form.get("password") or [None])[0]
        self.scope = (form.get("scope") or [""])[0]
        cid = (form.get("client_id") or [None])[0]
        if cid is None and basic:
            cid = basic[0]
        self.client_id = cid or "test-client"
        self.query = query
        self.scenario = scenario
        host = SERVER_INFO["host"]
        if ":" in host:
            host = "[%s]" % host
        self.base = "%s://%s:%d" % (SERVER_INFO["scheme"], host, SERVER_INFO["port"])
        self.http_base = "http://%s:%d" % (host, SERVER_INFO["port"])

    def qfloat(self, name, default, lo=0.0, hi=None):
        try:
            v = float(self.query.get(name, [default])[0])
        except (TypeError, ValueError):
            return default
        if v != v:  # NaN
            return default
        hi = CONFIG["max_lifetime"] if hi is None else hi
        return max(lo, min(v, hi))


class S:
    """One scenario.

    status   HTTP status code
    body     dict/list (JSON-encoded), str (UTF-8), bytes, or callable(ctx)
             returning one of those
    ctype    Content-Type (None: header omitted)
    headers  list of (name, value-or-callable(ctx))
    special  name of a raw socket behaviour (see Handler.special_*)
    dynamic  callable(ctx) -> S, chosen per request (used by `password`)
    """

    def __init__(self, status, body=b"", ctype=JSON, headers=(), special=None,
                 dynamic=None, note=""):
        self.status = status
        self.body = body
        self.ctype = ctype
        self.headers = list(headers)
        self.special = special
        self.dynamic = dynamic
        self.note = note


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def fake_jwt(ctx, **claims):
    """An unsigned JWT: base64url(header).base64url(payload). (empty sig)."""
    now = int(time.time())
    payload = {
        "iss": ctx.base + "/s/" + ctx.scenario,
        "sub": "u-" + secrets.token_hex(6),
        "aud": ctx.client_id,
        "iat": now,
        "exp": now + 3600,
        "preferred_username": ctx.username,
    }
    payload.update(claims)
    head = {"alg": "none", "typ": "JWT"}
    return "%s.%s." % (b64url(json.dumps(head, separators=(",", ":")).encode()),
                       b64url(json.dumps(payload, separators=(",", ":"),
                                         ensure_ascii=False).encode("utf-8")))


def body_bytes(body, ctx):
    if callable(body):
        body = body(ctx)
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def err(status, error, desc=None, ctype=JSON, headers=(), note="", **extra):
    body = {"error": error}
    if desc is not None:
        body["error_description"] = desc
    body.update(extra)
    return S(status, body, ctype, list(NO_STORE) + list(headers), note=note)


# ---- success bodies -------------------------------------------------------

def ok_body(ctx):
    # RFC 6749 A.12: an access token is printable ASCII, so the user name
    # it carries (for the tests to recognise) is percent-encoded.
    return {
        "access_token": "%s-%s" % (secrets.token_hex(20),
                                   urllib.parse.quote(ctx.username or "", safe="")),
        "token_type": "Bearer",
        "expires_in": 3600,
        "scope": "openid profile",
        "id_token": fake_jwt(ctx),
        "refresh_token": "r-" + secrets.token_hex(16),
    }


def keycloak_ok_body(ctx):
    sid = str(uuid.uuid4())
    return {
        "access_token": fake_jwt(ctx, typ="Bearer", azp=ctx.client_id, sid=sid),
        "expires_in": 300,
        "refresh_expires_in": 1800,
        "refresh_token": fake_jwt(ctx, typ="Refresh", sid=sid),
        "token_type": "Bearer",
        "id_token": fake_jwt(ctx, typ="ID", sid=sid),
        "not-before-policy": 0,
        "session_state": sid,
        "scope": "openid profile email",
    }


def okta_ok_body(ctx):
    return {
        "token_type": "Bearer",
        "expires_in": 3600,
        "access_token": fake_jwt(ctx, ver=1, cid=ctx.client_id, scp=["openid", "profile"]),
        "scope": "openid profile",
        "id_token": fake_jwt(ctx, ver=1, amr=["pwd"]),
    }


def entra_ok_body(ctx):
    return {
        "token_type": "Bearer",
        "scope": "openid profile email User.Read",
        "expires_in": 4763,
        "ext_expires_in": 4763,
        "access_token": fake_jwt(ctx, ver="1.0", upn=ctx.username, tid=ENTRA_TENANT),
        "refresh_token": "0.AX" + secrets.token_urlsafe(48),
        "id_token": fake_jwt(ctx, ver="2.0", tid=ENTRA_TENANT),
    }


def entra_v1_ok_body(ctx):
    now = int(time.time())
    return {
        "token_type": "Bearer",
        "scope": "User.Read",
        "expires_in": "3599",
        "ext_expires_in": "3599",
        "expires_on": str(now + 3599),
        "not_before": str(now - 300),
        "resource": "00000003-0000-0000-c000-000000000000",
        "access_token": fake_jwt(ctx, ver="1.0", upn=ctx.username, tid=ENTRA_TENANT),
        "refresh_token": "0.AX" + secrets.token_urlsafe(48),
        "id_token": fake_jwt(ctx, ver="1.0", tid=ENTRA_TENANT),
    }


def onelogin_ok_body(ctx):
    return {
        "access_token": secrets.token_urlsafe(32),
        "expires_in": 3600,
        "id_token": fake_jwt(ctx),
        "refresh_token": secrets.token_urlsafe(32),
        "scope": "openid",
        "token_type": "Bearer",
    }


def glewlwyd_ok_body(ctx):
    return {
        "token_type": "bearer",
        "access_token": fake_jwt(ctx),
        "refresh_token": secrets.token_urlsafe(96),
        "iat": int(time.time()),
        "expires_in": 3600,
        "scope": "openid",
        "id_token": fake_jwt(ctx),
    }


def tok(prefix="tok-"):
    return prefix + secrets.token_hex(16)


# ---- Entra ID -------------------------------------------------------------

ENTRA_TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad"
ENTRA_APP = "4a7c2d1e-5f3b-4c8a-9e6d-0b1f2a3c4d5e"


def entra(status, error, code, text, suberror=None, **extra):
    def body(ctx):
        trace, corr = str(uuid.uuid4()), str(uuid.uuid4())
        ts = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime())
        b = {
            "error": error,
            "error_description": "AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s"
                                 % (code, text, trace, corr, ts),
            "error_codes": [code],
            "timestamp": ts,
            "trace_id": trace,
            "correlation_id": corr,
            "error_uri": "https://login.microsoftonline.com/error?code=%d" % code,
        }
        if suberror:
            b["suberror"] = suberror
        b.update(extra)
        return b
    hdrs = NO_STORE + [("x-ms-request-id", lambda ctx: str(uuid.uuid4())),
                       ("x-ms-ests-server", "2.1.17000.3 - NEULR1 ProdSlices")]
    return S(status, body, JSON_ENTRA, hdrs, note="AADSTS%d" % code)


MFA_CLAIMS = '{"access_token":{"capolids":{"essential":true,"values":["8f1c5e3b-2d4a-4b6c-9e7f-1a2b3c4d5e6f"]}}}'

# ---- OneLogin -------------------------------------------------------------
# (message, status-shape HTTP code, status-shape "type", error-shape HTTP code)
ONELOGIN = {
    "auth_failed": ("Authentication Failed", 401, "Unauthorized", 400),
    "invalid_creds": ("Authentication Failed: Invalid user credentials", 401, "Unauthorized", 400),
    "mfa": ("MFA is required for this user", 401, "Unauthorized", 400),
    "locked": ("User is locked. Access is unauthorized", 401, "Unauthorized", 400),
    "suspended": ("User is suspended. Access is unauthorized", 401, "Unauthorized", 400),
    "expired": ("Password expired", 401, "Unauthorized", 400),
    "unauthorized": ("Access is unauthorized", 401, "Unauthorized", 401),
    "not_found": ("Resource not found", 404, "Not Found", 404),
    "bad_header": ("invalid authorization header value format", 400, "bad request", 400),
}


def onelogin_status(code, typ, msg):
    return S(code, {"status": {"error": True, "code": code, "type": typ, "message": msg}},
             JSON_OL, NO_STORE)


def onelogin_error(code, msg, error="invalid_request"):
    return S(code, {"error": error, "error_description": msg}, JSON_OL, NO_STORE)


# ---- odd bodies -----------------------------------------------------------

def _cached(fn):
    cache = {}
    lock = threading.Lock()

    def wrapper(ctx):
        with lock:
            if "v" not in cache:
                cache["v"] = fn()
            return cache["v"]
    return wrapper


@_cached
def token_huge_body():
    return b'{"access_token":"' + b"A" * MiB + b'","token_type":"Bearer","expires_in":3600}'


@_cached
def huge_body_body():
    pad = 2 * MiB
    return (b'{"access_token":"tok-huge","token_type":"Bearer","expires_in":3600,"padding":"'
            + b"p" * pad + b'"}')


@_cached
def big_error_body():
    return (b'{"error":"invalid_grant","error_description":"' + b"E" * (600 * KiB) + b'"}')


@_cached
def deep_nesting_body():
    n = 10000
    return (b'{"access_token":"tok-deep","token_type":"Bearer","nested":'
            + b"[" * n + b"]" * n + b"}")


@_cached
def deep_nesting_top_body():
    n = 10000
    return b"[" * n + b"]" * n


HTML_LOGIN = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in</title></head>
<body><form method="post" action="/login"><h1>Sign in to continue</h1>
<input name="username"><input name="password" type="password">
<button type="submit">Sign in</button></form></body></html>
"""

NGINX_502 = """<html>
<head><title>502 Bad Gateway</title></head>
<body>
<center><h1>502 Bad Gateway</h1></center>
<hr><center>nginx</center>
</body>
</html>
"""


def redirect(code, to_http=False):
    def loc(ctx):
        return (ctx.http_base if to_http else ctx.base) + "/s/ok/token"
    return S(code, b"", None, [("Location", loc)],
             note="Location: %s://<same host:port>/s/ok/token" % ("http" if to_http else "https"))


# --------------------------------------------------------------------------
# THE SCENARIO TABLE

SCENARIOS = {
    # ---- success -------------------------------------------------------------
    "ok": S(200, ok_body, JSON, NO_STORE,
            note="access_token <40 hex>-<username>, id_token, refresh_token"),
    "password": S(200, dynamic=lambda ctx: SCENARIOS["ok"] if ctx.password == "correct horse"
                  else SCENARIOS["_password_wrong"],
                  note="200 like ok if password == 'correct horse', else 400 invalid_grant"),
    "_password_wrong": err(400, "invalid_grant", "Invalid user credentials", JSON_KC),
    "ok_minimal": S(200, lambda ctx: {"access_token": tok(), "token_type": "Bearer"}, JSON, NO_STORE),
    "keycloak_ok": S(200, keycloak_ok_body, JSON_KC, NO_STORE),
    "okta_ok": S(200, okta_ok_body, JSON_OKTA, NO_STORE),
    "entra_ok": S(200, entra_ok_body, JSON_ENTRA, NO_STORE),
    "entra_v1_ok": S(200, entra_v1_ok_body, JSON_ENTRA, NO_STORE,
                     note="expires_in etc. as JSON strings (Azure AD v1 endpoint)"),
    "onelogin_ok": S(200, onelogin_ok_body, JSON_OL, NO_STORE),
    "glewlwyd_ok": S(200, glewlwyd_ok_body, JSON, NO_STORE, note='token_type "bearer"'),
    "close_delimited": S(200, ok_body, JSON, NO_STORE, special="close_delimited",
                         note="HTTP/1.0 200, no Content-Length, body ends at close (with TLS close_notify)"),

    # ---- Keycloak -----------------------------------------------------------
    "keycloak_invalid": err(401, "invalid_grant", "Invalid user credentials", JSON_KC),
    "keycloak_disabled": err(400, "invalid_grant", "Account disabled", JSON_KC),
    "keycloak_temp_disabled": err(400, "invalid_grant", "Account temporarily disabled", JSON_KC),
    "keycloak_not_fully_setup": err(400, "invalid_grant", "Account is not fully set up", JSON_KC),
    "keycloak_bad_client": err(401, "unauthorized_client",
                               "Invalid client or Invalid client credentials", JSON_KC),
    "keycloak_invalid_scope": err(400, "invalid_scope", "Invalid scopes: openid nosuchscope", JSON_KC),
    "keycloak_no_direct_grant": err(400, "unauthorized_client",
                                    "Client not allowed for direct access grants", JSON_KC),

    # ---- Okta -----------------------------------------------------------------
    "okta_invalid_grant": err(400, "invalid_grant", "The credentials provided were invalid.", JSON_OKTA),
    "okta_mfa": err(403, "mfa_required", "An MFA challenge is required to complete this request.",
                    JSON_OKTA, mfa_token="ftMfa" + "x" * 40,
                    note="403 mfa_required + mfa_token (Okta Direct Authentication)"),
    "okta_policy_denied": err(400, "access_denied",
                              "Policy evaluation failed for this request, please check the policy configurations.",
                              JSON_OKTA),
    "okta_grant_not_allowed": err(400, "unauthorized_client",
                                  "The client is not authorized to use the provided grant type. "
                                  "Configured grant types: [authorization_code, refresh_token].",
                                  JSON_OKTA),
    "okta_invalid_client": err(401, "invalid_client", "Invalid value for 'client_id' parameter.",
                               JSON_OKTA),
    "okta_rate_limit": S(429, lambda ctx: {
        "errorCode": "E0000047",
        "errorSummary": "API call exceeded rate limit due to too many requests.",
        "errorLink": "E0000047", "errorId": "oae" + secrets.token_hex(10), "errorCauses": []},
        JSON_OKTA, [("X-Rate-Limit-Limit", "600"), ("X-Rate-Limit-Remaining", "0"),
                    ("X-Rate-Limit-Reset", lambda ctx: str(int(time.time()) + 60))]),

    # ---- Entra ID (Azure AD) ---------------------------------------------------
    "entra_bad_password": entra(400, "invalid_grant", 50126,
                                "Error validating credentials due to invalid username or password."),
    "entra_no_user": entra(400, "invalid_grant", 50034,
                           "The user account {EUII Hidden} does not exist in the %s directory. "
                           "To sign into this application, the account must be added to the directory."
                           % ENTRA_TENANT),
    "entra_mfa": entra(400, "invalid_grant", 50076,
                       "Due to a configuration change made by your administrator, or because you moved "
                       "to a new location, you must use multi-factor authentication to access "
                       "'00000003-0000-0000-c000-000000000000'.",
                       suberror="basic_action", claims=MFA_CLAIMS),
    "entra_mfa2": entra(400, "invalid_grant", 50079,
                        "Due to a configuration change made by your administrator, or because you moved "
                        "to a new location, you must enroll in multi-factor authentication to access "
                        "'00000003-0000-0000-c000-000000000000'.",
                        suberror="basic_action"),
    "entra_locked": entra(400, "invalid_grant", 50053,
                          "The account is locked, you've tried to sign in too many times with an "
                          "incorrect user ID or password."),
    "entra_disabled": entra(400, "invalid_grant", 50057, "The user account is disabled."),
    "entra_expired": entra(400, "invalid_grant", 50055, "The password is expired.",
                           suberror="user_password_expired"),
    "entra_invalid_client": entra(401, "invalid_client", 7000215,
                                  "Invalid client secret provided. Ensure the secret being sent in the "
                                  "request is the client secret value, not the client secret ID, for a "
                                  "secret added to app '%s'." % ENTRA_APP),
    "entra_consent": entra(400, "invalid_grant", 65001,
                           "The user or administrator has not consented to use the application with ID "
                           "'%s' named 'pam_ropc-test'. Send an interactive authorization request for "
                           "this user and resource." % ENTRA_APP, suberror="consent_required"),

    # ---- Glewlwyd -------------------------------------------------------------
    "glewlwyd_denied": S(403, b"", None, note="empty body, no Content-Type"),
    "glewlwyd_bad_client": S(400, b"", None, note="empty body, no Content-Type"),

    # ---- RFC 6749 section 5.2 ----------------------------------------------------
    "rfc_invalid_request": err(400, "invalid_request", "Missing required parameter: grant_type"),
    "rfc_invalid_client": err(401, "invalid_client", "Client authentication failed",
                              headers=[("WWW-Authenticate", 'Basic realm="testidp"')]),
    "rfc_invalid_grant": err(400, "invalid_grant", "The provided authorization grant is invalid"),
    "rfc_unauthorized_client": err(400, "unauthorized_client",
                                   "The client is not authorized to use this grant type"),
    "rfc_unsupported_grant_type": err(400, "unsupported_grant_type",
                                      "The authorization grant type is not supported"),
    "rfc_invalid_scope": err(400, "invalid_scope", "The requested scope is invalid"),
    "rfc_access_denied": err(400, "access_denied", "The resource owner denied the request"),
    "unknown_4xx": S(418, {"error": "teapot"}, JSON, NO_STORE),

    # ---- HTTP-level errors --------------------------------------------------------
    "http500": err(500, "server_error", "Internal Server Error"),
    "http502": S(502, NGINX_502, "text/html", note="nginx HTML page"),
    "http503": err(503, "temporarily_unavailable", "Service Unavailable",
                   headers=[("Retry-After", "120")], note="Retry-After: 120"),
    "http429": err(429, "too_many_requests", "Rate limit exceeded",
                   headers=[("Retry-After", "30")], note="Retry-After: 30"),
    "http204": S(204, b"", None),
    "redirect301": redirect(301),
    "redirect302": redirect(302),
    "redirect303": redirect(303),
    "redirect307": redirect(307),
    "redirect308": redirect(308),
    "redirect_http": redirect(302, to_http=True),

    # ---- malformed / hostile 200 bodies ---------------------------------------------
    "html200": S(200, HTML_LOGIN, "text/html; charset=utf-8", note="an HTML login page"),
    "json_array200": S(200, b"[]"),
    "empty_object200": S(200, b"{}"),
    "empty200": S(200, b"", JSON, note="Content-Length: 0"),
    "no_content_type": S(200, lambda ctx: {"access_token": tok(), "token_type": "Bearer"}, None),
    "json_as_text": S(200, lambda ctx: {"access_token": tok(), "token_type": "Bearer"}, "text/plain",
                      note="valid JSON labelled text/plain"),
    "token_number": S(200, b'{"access_token":123,"token_type":"Bearer"}'),
    "token_empty": S(200, b'{"access_token":"","token_type":"Bearer"}'),
    "token_null": S(200, b'{"access_token":null,"token_type":"Bearer"}'),
    "token_bool": S(200, b'{"access_token":true,"token_type":"Bearer"}'),
    "token_object": S(200, b'{"access_token":{"value":"tok-x"},"token_type":"Bearer"}'),
    "token_array": S(200, b'{"access_token":["tok-x"],"token_type":"Bearer"}'),
    "token_huge": S(200, token_huge_body, note="access_token of 1 MiB"),
    "token_type_missing": S(200, lambda ctx: {"access_token": tok()}),
    "token_type_lower": S(200, lambda ctx: {"access_token": tok(), "token_type": "bearer"}),
    "token_type_mac": S(200, lambda ctx: {"access_token": tok(), "token_type": "mac",
                                          "mac_key": "adijq39jdlaska9asud", "mac_algorithm": "hmac-sha-256"}),
    "expires_in_string": S(200, lambda ctx: {"access_token": tok(), "token_type": "Bearer",
                                             "expires_in": "3600"}),
    "expires_in_negative": S(200, lambda ctx: {"access_token": tok(), "token_type": "Bearer",
                                               "expires_in": -1}),
    "expires_in_float": S(200, lambda ctx: {"access_token": tok(), "token_type": "Bearer",
                                            "expires_in": 3599.5}),
    "expires_in_huge": S(200, lambda ctx: ('{"access_token":"%s","token_type":"Bearer",'
                                           '"expires_in":99999999999999999999999}' % tok())),
    "error_with_200": S(200, {"error": "invalid_grant", "error_description": "Invalid user credentials"},
                        note="200 status but an error body"),
    "token_and_error": S(200, lambda ctx: {"access_token": tok(), "token_type": "Bearer",
                                           "error": "invalid_grant",
                                           "error_description": "Invalid user credentials"}),
    "dup_keys": S(200, b'{"access_token":"tok-first","token_type":"Bearer","access_token":"tok-second"}'),
    "deep_nesting": S(200, deep_nesting_body, note="object with 10,000 nested arrays inside"),
    "deep_nesting_top": S(200, deep_nesting_top_body, note="10,000 nested arrays at top level"),
    "invalid_utf8": S(200, b'{"access_token":"tok-\xff\xfe-x","token_type":"Bearer"}',
                      note=r"raw bytes \xff\xfe inside a JSON string"),
    "embedded_nul": S(200, b'{"access_token":"tok-a\\u0000b","token_type":"Bearer"}',
                      note=r"\u0000 escape inside access_token"),
    "embedded_nul_raw": S(200, b'{"access_token":"tok-a\x00b","token_type":"Bearer"}',
                          note="raw NUL byte inside access_token"),
    "trailing_garbage": S(200, b'{"access_token":"x","token_type":"Bearer"}garbage'),
    "bom_prefix": S(200, lambda ctx: b"\xef\xbb\xbf" + body_bytes(
        {"access_token": tok(), "token_type": "Bearer"}, ctx), note="UTF-8 BOM before the JSON"),
    "huge_body": S(200, huge_body_body, note="2 MiB valid JSON, Content-Length"),
    "chunked_huge": S(200, huge_body_body, special="chunked",
                      note="2 MiB valid JSON, Transfer-Encoding: chunked, HTTP/1.1"),

    # ---- hostile error bodies ----------------------------------------------------------
    "big_error": S(400, big_error_body, note="600 KiB error_description"),
    "nonjson_error": S(400, "Bad Request\n", "text/plain"),
    "control_chars_error": err(400, "invalid_grant",
                               "\u001b[31mRED\u001b[0m line1\r\nline2\tTAB\u0007BEL\n"
                               "Jan  1 00:00:00 host sshd[1]: Accepted password for root"),

    # ---- slow / broken transport -------------------------------------------------------
    "stall": S(0, special="stall", note="reads the request, never answers"),
    "stall_after_headers": S(200, special="stall_after_headers",
                             note="sends 200 headers (Content-Length 100), never the body"),
    "slow_drip": S(200, ok_body, JSON, NO_STORE, special="slow_drip",
                   note="whole ok response, 1 byte per second (?interval=)"),
    "slow_body": S(200, ok_body, JSON, NO_STORE, special="slow_body",
                   note="headers at once, then body 1 byte per second (?interval=)"),
    "close_mid_body": S(200, special="close_mid_body",
                        note="Content-Length 1000, 10 bytes, then close"),
    "close_immediately": S(0, special="close_immediately",
                           note="reads the request, closes without any response"),
    "reset_immediately": S(0, special="reset",
                           note="reads the request, closes with TCP RST"),
}

# OneLogin: error shape under onelogin_<x>, legacy status shape under onelogin_<x>_status
for _name, (_msg, _scode, _stype, _ecode) in ONELOGIN.items():
    SCENARIOS["onelogin_" + _name] = onelogin_error(_ecode, _msg)
    SCENARIOS["onelogin_%s_status" % _name] = onelogin_status(_scode, _stype, _msg)
SCENARIOS["onelogin_unsupported_grant"] = onelogin_error(
    400, "unsupported grant type", error="unsupported_grant_type")
SCENARIOS["onelogin_mfa_v1_200"] = S(200, lambda ctx: {
    "status": {"type": "success", "message": "MFA is required for this user", "code": 200, "error": False},
    "data": [{"state_token": secrets.token_hex(20),
              "devices": [{"device_type": "Google Authenticator", "device_id": 666666}],
              "callback_url": ctx.base + "/api/1/login/verify_factor",
              "user": {"username": ctx.username, "email": ctx.username, "firstname": "Test",
                       "lastname": "User", "id": 88888888}}]}, JSON_OL, NO_STORE,
    note="OneLogin API v1 style: HTTP 200 + status.message 'MFA is required for this user'")

# 200 answers that hold a token and yet carry an error: never a success.
for _name, _extra in {
        "error_object": {"error": {"code": "denied", "message": "no"}},
        "error_true": {"error": True},
        "error_empty": {"error": ""},
        "error_nul": {"error": "\u0000invalid_grant"},
        "status_error": {"status": {"error": True, "code": 401, "message": "denied"}},
        "desc_mfa": {"error_description": "MFA is required for this user"},
        "desc_locked": {"error_description": "User is locked. Access is unauthorized"}}.items():
    SCENARIOS["token200_" + _name] = S(
        200, (lambda extra: lambda ctx: dict({"access_token": tok(), "token_type": "Bearer",
                                              "expires_in": 3600}, **extra))(_extra),
        JSON, NO_STORE, note="a token and %s in one 200" % sorted(_extra))

# Locked for one client, fine for every other: what a remembered refusal
# must be keyed on.
SCENARIOS["locked_for_client_a"] = S(
    200, dynamic=lambda ctx: SCENARIOS["onelogin_locked"] if ctx.client_id == "client-a"
    else SCENARIOS["ok"], note="locked when client_id is client-a, else a token")
# Locked for one IdP user name, fine for every other (username_format).
SCENARIOS["locked_for_corp_name"] = S(
    200, dynamic=lambda ctx: SCENARIOS["onelogin_locked"] if ctx.username.endswith("@corp")
    else SCENARIOS["ok"], note="locked when the user name ends in @corp, else a token")


def public_scenarios():
    return {k: v for k, v in SCENARIOS.items() if not k.startswith("_")}


# --------------------------------------------------------------------------
# OpenID Connect side: /o/<profile>/...   (see the module docstring)

class OidcError(Exception):
    """Something on our side failed (openssl, shutdown): answered as 500."""


def openssl(args, data=None, timeout=60):
    """Run the openssl command line tool; -> its stdout bytes."""
    try:
        p = subprocess.run(["openssl"] + list(args), input=data,
                           stdin=None if data is not None else subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise OidcError("openssl %s: %s" % (args[0], e))
    if p.returncode != 0:
        raise OidcError("openssl %s failed (status %d): %s" % (
            args[0], p.returncode, p.stderr.decode("utf-8", "replace").strip()[:300]))
    return p.stdout


# ---- minimal DER reading (SubjectPublicKeyInfo, PKCS#8, ECDSA-Sig-Value) ----

def der_tlv(buf, off, want=None):
    """-> (tag, content start, content end) of the TLV at off."""
    if off + 2 > len(buf):
        raise ValueError("DER: truncated")
    tag, ln = buf[off], buf[off + 1]
    off += 2
    if ln & 0x80:
        n = ln & 0x7F
        if n == 0 or n > 4 or off + n > len(buf):
            raise ValueError("DER: bad length")
        ln = int.from_bytes(buf[off:off + n], "big")
        off += n
    if off + ln > len(buf):
        raise ValueError("DER: content runs past the end")
    if want is not None and tag != want:
        raise ValueError("DER: tag 0x%02x where 0x%02x was expected" % (tag, want))
    return tag, off, off + ln


def der_children(buf, start, end):
    out = []
    while start < end:
        t = der_tlv(buf, start)
        out.append(t)
        start = t[2]
    if start != end:
        raise ValueError("DER: children overrun")
    return out


def der_seq(buf, off=0):
    """The (tag, start, end) children of the SEQUENCE at off."""
    _, s, e = der_tlv(buf, off, 0x30)
    return der_children(buf, s, e)


def der_uint(buf, t):
    """An INTEGER's magnitude, big-endian, without leading zero bytes."""
    if t[0] != 0x02:
        raise ValueError("DER: INTEGER expected")
    v = bytes(buf[t[1]:t[2]]).lstrip(b"\x00")
    return v or b"\x00"


OID_RSA = bytes.fromhex("2a864886f70d010101")     # 1.2.840.113549.1.1.1
OID_EC = bytes.fromhex("2a8648ce3d0201")          # 1.2.840.10045.2.1
EC_CURVES = {   # name -> (OID content, coordinate bytes, JOSE alg, digest)
    "P-256": (bytes.fromhex("2a8648ce3d030107"), 32, "ES256", "sha256"),
    "P-384": (bytes.fromhex("2b81040022"), 48, "ES384", "sha384"),
    "P-521": (bytes.fromhex("2b81040023"), 66, "ES512", "sha512"),
}


def spki_params(der):
    """SubjectPublicKeyInfo -> ("RSA", n, e) or ("EC", crv, x, y)."""
    alg, bits = der_seq(der)
    oids = der_children(der, alg[1], alg[2])
    if bits[0] != 0x03 or der[bits[1]] != 0:
        raise ValueError("SPKI: BIT STRING expected")
    key = der[bits[1] + 1:bits[2]]
    oid = bytes(der[oids[0][1]:oids[0][2]])
    if oid == OID_RSA:
        n, e = der_seq(key)
        return ("RSA", der_uint(key, n), der_uint(key, e))
    if oid == OID_EC:
        curve = bytes(der[oids[1][1]:oids[1][2]])
        for crv, (coid, size, _, _) in EC_CURVES.items():
            if coid == curve:
                if len(key) != 1 + 2 * size or key[0] != 4:
                    raise ValueError("SPKI: not an uncompressed point")
                return ("EC", crv, bytes(key[1:1 + size]), bytes(key[1 + size:]))
        raise ValueError("SPKI: unknown curve")
    raise ValueError("SPKI: unknown key algorithm")


def rsa_private_members(der):
    """An RSA private key in DER, PKCS#1 RSAPrivateKey (what `openssl pkey
    -outform DER` writes) or PKCS#8 PrivateKeyInfo -> dict of JWK members."""
    parts = der_seq(der)
    if len(parts) == 3 and parts[2][0] == 0x04:         # PKCS#8: unwrap
        inner = der[parts[2][1]:parts[2][2]]
    else:
        inner = der
    ints = der_seq(inner)
    if len(ints) < 9 or any(t[0] != 0x02 for t in ints[:9]):
        raise ValueError("RSAPrivateKey: nine INTEGERs expected")
    names = ("n", "e", "d", "p", "q", "dp", "dq", "qi")
    return {k: b64url(der_uint(inner, t)) for k, t in zip(names, ints[1:9])}


def ecdsa_der_to_raw(sig, size):
    """ECDSA-Sig-Value DER -> r || s, each left-padded to size bytes."""
    r, s = der_seq(sig)
    return b"".join(der_uint(sig, t).rjust(size, b"\x00") for t in (r, s))


def pem_public(der):
    body = base64.b64encode(der).decode("ascii")
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return ("-----BEGIN PUBLIC KEY-----\n" + "\n".join(lines)
            + "\n-----END PUBLIC KEY-----\n").encode("ascii")


# ---- keys -------------------------------------------------------------------

KEY_SPECS = {
    "rsa1": ("RSA", 2048), "rsa2": ("RSA", 2048), "rogue": ("RSA", 2048),
    "weak": ("RSA", 1024),
    "ec256": ("EC", "P-256"), "ec384": ("EC", "P-384"), "ec521": ("EC", "P-521"),
}


class Key:
    def __init__(self, name, path, spki_der):
        self.name = name
        self.path = path
        self.spki_der = spki_der
        self.pub_pem = pem_public(spki_der)
        p = spki_params(spki_der)
        self.kty = p[0]
        if self.kty == "RSA":
            self.n, self.e = p[1], p[2]
            self.bits = len(self.n) * 8 - (8 - self.n[0].bit_length())
            self.crv = None
        else:
            self.crv, self.x, self.y = p[1], p[2], p[3]
            self.bits = {"P-256": 256, "P-384": 384, "P-521": 521}[self.crv]
        self._private_jwk = None

    def jwk(self, alg, kid=None, use="sig"):
        j = {"kty": self.kty, "kid": kid or self.name, "use": use, "alg": alg}
        if self.kty == "RSA":
            j.update(n=b64url(self.n), e=b64url(self.e))
        else:
            j.update(crv=self.crv, x=b64url(self.x), y=b64url(self.y))
        return j

    def private_members(self):
        """RSA only: n e d p q dp dq qi (for the jwks_extra_keys hazard)."""
        if self._private_jwk is None:
            self._private_jwk = rsa_private_members(
                openssl(["pkey", "-in", self.path, "-outform", "DER"]))
        return dict(self._private_jwk)

    def sign(self, alg, data):
        md = "sha" + alg[2:]
        args = ["dgst", "-" + md, "-sign", self.path]
        if alg.startswith("PS"):
            args += ["-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:digest",
                     "-sigopt", "rsa_mgf1_md:" + md]
        sig = openssl(args, data)
        if alg.startswith("ES"):
            sig = ecdsa_der_to_raw(sig, EC_CURVES[self.crv][1])
        return sig


class KeyStore:
    """Keys made with `openssl genpkey` on first use, kept in a private
    temporary directory that cleanup() (called at exit) removes."""

    def __init__(self):
        self.lock = threading.Lock()
        self.key_locks = {}
        self.keys = {}
        self.dir = None
        self.closed = False

    def get(self, name):
        with self.lock:
            if name in self.keys:
                return self.keys[name]
            if self.closed:
                raise OidcError("shutting down")
            if self.dir is None:
                self.dir = tempfile.mkdtemp(prefix="testidp-keys-")
                event("oidc_key_dir", path=self.dir)
            klock = self.key_locks.setdefault(name, threading.Lock())
            d = self.dir
        with klock:
            with self.lock:
                if name in self.keys:
                    return self.keys[name]
            kind, size = KEY_SPECS[name]
            path = os.path.join(d, name + ".pem")
            t0 = time.monotonic()
            if kind == "RSA":
                opt = "rsa_keygen_bits:%d" % size
            else:
                opt = "ec_paramgen_curve:" + size
            openssl(["genpkey", "-algorithm", kind, "-pkeyopt", opt, "-out", path])
            key = Key(name, path, openssl(["pkey", "-in", path, "-pubout", "-outform", "DER"]))
            event("oidc_key_generated", key=name, seconds=round(time.monotonic() - t0, 3))
            debug("generated key %s in %.3fs" % (name, time.monotonic() - t0))
            with self.lock:
                self.keys[name] = key
            return key

    def cleanup(self):
        with self.lock:
            self.closed = True
            d, self.dir = self.dir, None
        if d:
            shutil.rmtree(d, ignore_errors=True)


KEYS = KeyStore()
atexit.register(KEYS.cleanup)

# ---- profiles ---------------------------------------------------------------

# flag -> (conflict group or None, description).  Flags of one group exclude
# each other.
OIDC_FLAGS = {}


def _flags(group, table):
    for name, doc in table:
        OIDC_FLAGS[name] = (group, doc)


SIGNING = {   # flag -> (JOSE alg, key name or None for HMAC)
    "rs256": ("RS256", "rsa"), "rs384": ("RS384", "rsa"), "rs512": ("RS512", "rsa"),
    "ps256": ("PS256", "rsa"), "ps384": ("PS384", "rsa"), "ps512": ("PS512", "rsa"),
    "es256": ("ES256", "ec256"), "es384": ("ES384", "ec384"), "es512": ("ES512", "ec521"),
    "hs256": ("HS256", None), "hs384": ("HS384", None), "hs512": ("HS512", None),
}
_flags("signing", [(k, "%s with %s" % (a, {"rsa": "rsa1 (rsa2 once rotated)", None: "the client secret"}
                                         .get(kn, kn))) for k, (a, kn) in SIGNING.items()])
_flags("forgery", [
    ("alg_none", 'header alg "none", empty signature'),
    ("hs_with_rsa_pub", "alg HS256, kid rsa1, HMAC key = rsa1's public key PEM text"),
    ("rogue_key", 'signed by the unpublished "rogue" key, header kid rsa1'),
    ("weak_rsa", 'signed by the 1024-bit "weak" key; the JWKS holds only weak'),
])
_flags("kid", [
    ("kid_missing", 'header kid "nope" (in no JWKS), signed by the right key'),
    ("no_kid", "no kid header, signed by the right key"),
])
_flags(None, [
    ("tampered", 'payload changed after signing (preferred_username "mallory")'),
    ("expired", "exp = now-3600, iat = auth_time = now-7200"),
    ("nbf_future", "nbf = now+600"),
    ("iat_future", "iat = now+600"),
    ("wrong_iss", 'iss = issuer + "-other"'),
])
_flags("aud", [
    ("aud_other", 'aud = "someone-else"'),
    ("multi_aud", 'aud = [C, "other"], no azp'),
    ("multi_aud_azp", 'aud = [C, "other"], azp = C'),
    ("multi_aud_wrong_azp", 'aud = [C, "other"], azp = "other"'),
])
_flags(None, [
    ("no_id_token", "the token answer holds no id_token"),
    ("jwks_extra_keys", "JWKS also holds an oct key, an RSA key with private members, an enc key"),
    ("jwt_at", "access token is a JWT signed like the id_token (aud = resource or api://default)"),
    ("scope_partial", 'granted scope = "openid" whatever was asked'),
])
_flags("user", [
    ("user_upper", "preferred_username (and introspection username) = U upper-cased"),
    ("user_other", 'preferred_username (and username) = "someone-else"'),
    ("user_missing", "no preferred_username (nor introspection username)"),
])
_flags("groups", [
    ("groups_array", 'groups = ["staff","ssh-users"] (bob: ["staff"]) (the default)'),
    ("groups_string", 'groups = "staff,ssh-users" (bob: "staff"), realm_access.roles the same'),
    ("groups_missing", "no groups and no realm_access"),
])
_flags("intro", [
    ("intro_inactive", 'introspection always {"active": false}'),
    ("intro_active_string", 'introspection "active": "true" (a string)'),
    ("intro_other_client", 'introspection client_id "someone-else"'),
    ("intro_clientId", 'introspection "clientId" instead of "client_id" (onePortal)'),
    ("intro_expired", "introspection active, exp = now-600"),
    ("intro_exp_nan", "introspection active, exp = NaN (json-c reads the literal)"),
])
_flags(None, [
    ("intro_huge", "introspection answer over 300 KiB of valid JSON"),
    ("intro_500", "introspection answers 500"),
    ("intro_redirect", "introspection answers 302 to the same URL + ?redirected=1"),
    ("intro_401", "introspection refuses the client: 401 invalid_client"),
    ("userinfo_401", "userinfo refuses every token: 401 invalid_token"),
    ("disc_bad_device", "discovery's device_authorization_endpoint is an http:// URL"),
    ("userinfo_no_sub", "userinfo answers without sub"),
    ("userinfo_other_sub", "userinfo sub differs from the tokens' sub"),
    ("disc_other_issuer", 'discovery "issuer" = issuer + "-other"'),
])
for _what, _ep in (("disc", "discovery"), ("jwks", "JWKS")):
    _flags(None, [
        (_what + "_huge", "%s document over 300 KiB of valid JSON" % _ep),
        (_what + "_redirect", "%s answers 302 to the same URL + ?redirected=1 "
                              "(which answers honestly)" % _ep),
        (_what + "_500", "%s answers 500" % _ep),
        (_what + "_garbage", "%s answers 200 application/json that is not JSON (HTML)" % _ep),
    ])
_flags("mfa", [
    ("mfa_token", "right password -> 403 mfa_required + mfa_token (300 s); the mfa-otp grant "
                  "with otp 123456 completes the login"),
    ("mfa_required_only", "right password -> 400 invalid_grant AADSTS50076 (Entra), no mfa_token"),
    ("otp_param", "password grant needs otp=123456 too; any failure -> 401 invalid_grant "
                  "\"Invalid user credentials\""),
    ("otp_param_totp", "as otp_param with the parameter totp="),
    ("otp_append", 'password grant needs password "correct horse123456"'),
    ("otp_append_colon", 'password grant needs password "correct horse:123456"'),
])
_flags(None, [
    ("mfa_expired", "(needs mfa_token) every mfa_token is born expired"),
    ("mfa_other_user", '(needs mfa_token) the mfa-otp grant answers for "mallory"'),
    ("mfa_no_token", "(needs mfa_token) the mfa_required answer has no mfa_token member"),
    ("device_short", "device codes: expires_in 10 (and they do expire after 10 s)"),
    ("device_slow_down", "the first poll of each device code answers slow_down (+5 s)"),
])
_flags("interval", [
    ("device_interval_none", "device answer without interval (the server expects 5 s)"),
    ("device_interval_2", "device answer interval 2 (default 1)"),
])
_flags("auto", [
    ("device_auto", 'a pending device code is approved as "alice" after its second poll'),
    ("device_auto_bob", 'a pending device code is approved as "bob" after its second poll'),
])
OIDC_FLAGS["tag_<word>"] = (None, "no effect: makes a profile (its log records, its rotation, "
                                  "its mfa_tokens and device codes) unique to one test; "
                                  "word = [A-Za-z0-9_.-]{1,64}")
TAG_FLAG = re.compile(r"^tag_[A-Za-z0-9_.-]{1,64}$")

# Flags that need an RSA signing algorithm (RS*/PS*).
RSA_ONLY = ("hs_with_rsa_pub", "rogue_key", "weak_rsa")
# Flags that only mean something next to another one.
NEEDS = {"mfa_expired": "mfa_token", "mfa_other_user": "mfa_token", "mfa_no_token": "mfa_token"}


class Profile:
    def __init__(self, name, flags, sign_flag):
        self.name = name
        self.flags = frozenset(flags)
        self.alg, self.key_kind = SIGNING[sign_flag]

    def __contains__(self, flag):
        return flag in self.flags

    def rsa_key_name(self):
        """The RSA key this profile signs with and publishes."""
        if "weak_rsa" in self.flags:
            return "weak"
        return "rsa2" if rotated(self.name) else "rsa1"


def parse_profile(name):
    """-> (Profile, None) or (None, error dict for a 404)."""
    flags = name.split("+")
    seen, groups = set(), {}
    for f in flags:
        if TAG_FLAG.match(f):
            continue
        if f not in OIDC_FLAGS or f == "tag_<word>":
            return None, {"error": "unknown_flag", "flag": f, "profile": name,
                          "error_description": "unknown OIDC profile flag %r" % f}
        if f in seen:
            return None, {"error": "conflicting_flags", "flags": [f, f], "profile": name,
                          "error_description": "flag %r given twice" % f}
        seen.add(f)
        g = OIDC_FLAGS[f][0]
        if g is not None:
            if g in groups:
                return None, {"error": "conflicting_flags", "flags": [groups[g], f], "profile": name,
                              "error_description": "flags %r and %r exclude each other" % (groups[g], f)}
            groups[g] = f
    sign_flag = groups.get("signing", "rs256")
    if SIGNING[sign_flag][1] != "rsa":
        for f in RSA_ONLY:
            if f in seen:
                return None, {"error": "conflicting_flags", "flags": [sign_flag, f], "profile": name,
                              "error_description": "%r needs an RS*/PS* signing flag" % f}
    for f, needed in NEEDS.items():
        if f in seen and needed not in seen:
            return None, {"error": "conflicting_flags", "flags": [f, needed], "profile": name,
                          "error_description": "%r needs %r" % (f, needed)}
    if sign_flag == "ps512" and "weak_rsa" in seen:
        return None, {"error": "conflicting_flags", "flags": ["ps512", "weak_rsa"], "profile": name,
                      "error_description": "PS512 does not fit in a 1024-bit key"}
    return Profile(name, seen, sign_flag), None


_rotated = set()
_rotated_lock = threading.Lock()


def rotated(profile_name):
    with _rotated_lock:
        return profile_name in _rotated


# ---- tokens issued (for introspection and userinfo) ---------------------------

class Issued:
    """(profile, access token) -> what introspection/userinfo tell about it."""

    MAX = 50000

    def __init__(self):
        self.lock = threading.Lock()
        self.map = collections.OrderedDict()

    def add(self, profile, token, rec):
        with self.lock:
            self.map[(profile, token)] = rec
            while len(self.map) > self.MAX:
                self.map.popitem(last=False)

    def get(self, profile, token):
        with self.lock:
            rec = self.map.get((profile, token))
        if rec is None or rec["exp"] <= time.time():
            return None
        return dict(rec)


ISSUED = Issued()
OCT_SECRET = secrets.token_bytes(32)        # the oct key of jwks_extra_keys
HUGE_PAD = 300 * KiB + 4 * KiB
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
MFA_OTP_GRANT = "http://auth0.com/oauth/grant-type/mfa-otp"
OTP_CODE = "123456"
MFA_TOKEN_LIFETIME = 300
MFA_REQUIRED_DESC = "An MFA challenge is required to complete this request."


class MfaTokens:
    """(profile, mfa_token) -> the password login it completes."""

    MAX = 10000

    def __init__(self):
        self.lock = threading.Lock()
        self.map = collections.OrderedDict()

    def add(self, profile, user, client_id, scope, expired=False):
        token = secrets.token_urlsafe(32)
        now = time.monotonic()
        rec = {"user": user, "client_id": client_id, "scope": scope,
               "expires": now - 1 if expired else now + MFA_TOKEN_LIFETIME}
        with self.lock:
            self.map[(profile, token)] = rec
            while len(self.map) > self.MAX:
                self.map.popitem(last=False)
        return token

    def redeem(self, profile, token, client_id, code_ok):
        """-> ("unknown" | "wrong_code" | "ok", rec); "ok" uses the token up.
        One lock: two right codes at once cannot both succeed."""
        with self.lock:
            rec = self.map.get((profile, token))
            if rec is None or rec["client_id"] != client_id or rec["expires"] <= time.monotonic():
                return "unknown", None
            if not code_ok:
                return "wrong_code", dict(rec)
            del self.map[(profile, token)]
            return "ok", dict(rec)


MFA_TOKENS = MfaTokens()

# RFC 8628 6.1: user codes from 20 consonants, no vowels, no look-alikes.
USER_CODE_CHARS = "BCDFGHJKLMNPQRSTVWXZ"
DEVICE_DEFAULT_INTERVAL = 5       # RFC 8628 3.2, when the answer has none
DEVICE_SLACK = 0.02               # a poll this much early is not too soon


def norm_user_code(code):
    return re.sub(r"[\s-]", "", code or "").upper()


class DeviceCodes:
    """Device codes of the device flow.  Records are dicts changed only
    under self.lock; callers get copies."""

    MAX = 10000

    def __init__(self):
        self.lock = threading.Lock()
        self.by_code = collections.OrderedDict()   # (profile, device_code) -> rec
        self.by_user = {}                          # normalised user_code -> rec

    def add(self, profile, client_id, scope, expires_in, interval):
        with self.lock:
            while True:
                raw = "".join(secrets.choice(USER_CODE_CHARS) for _ in range(8))
                if raw not in self.by_user:
                    break
            rec = {"profile": profile, "device_code": secrets.token_urlsafe(32),
                   "user_code": raw[:4] + "-" + raw[4:], "client_id": client_id,
                   "scope": scope, "state": "pending", "user": None,
                   "interval": interval, "expires_in": expires_in,
                   "created": time.time(), "created_mono": time.monotonic(),
                   "polls": 0, "slow_downs": 0, "last_poll": None}
            self.by_code[(profile, rec["device_code"])] = rec
            self.by_user[raw] = rec
            while len(self.by_code) > self.MAX:
                _, old = self.by_code.popitem(last=False)
                self.by_user.pop(norm_user_code(old["user_code"]), None)
            return dict(rec)

    @staticmethod
    def _state(rec, now):
        if rec["state"] in ("pending", "approved") and \
                now >= rec["created_mono"] + rec["expires_in"]:
            return "expired"
        return rec["state"]

    def _public(self, rec):
        out = {k: v for k, v in rec.items() if k not in ("created_mono", "last_poll")}
        out["state"] = self._state(rec, time.monotonic())
        return out

    def find(self, user_code=None, device_code=None, profile=None):
        with self.lock:
            rec = None
            if user_code:
                rec = self.by_user.get(norm_user_code(user_code))
            elif device_code:
                if profile is not None:
                    rec = self.by_code.get((profile, device_code))
                else:
                    rec = next((r for (p, d), r in self.by_code.items() if d == device_code), None)
            if rec is None or (profile is not None and rec["profile"] != profile):
                return None
            return self._public(rec)

    def decide(self, user_code, action, user, profile=None):
        """-> (status, doc) for /control/device."""
        with self.lock:
            rec = self.by_user.get(norm_user_code(user_code))
            if rec is None or (profile is not None and rec["profile"] != profile):
                return 404, {"error": "unknown_user_code",
                             "error_description": "no such user_code"}
            state = self._state(rec, time.monotonic())
            if state != "pending":
                return 409, {"error": "not_pending", "state": state,
                             "error_description": "the code is %s" % state}
            rec["state"] = "approved" if action == "approve" else "denied"
            rec["user"] = user
            return 200, {"profile": rec["profile"], "user_code": rec["user_code"],
                         "state": rec["state"], "user": user}

    def poll(self, prof, device_code, client_id):
        """One poll of the token endpoint -> (outcome, rec copy or None);
        outcome is an RFC 8628 error code or "ok"."""
        with self.lock:
            rec = self.by_code.get((prof.name, device_code))
            if rec is None:
                return "unknown", None
            if rec["client_id"] != client_id:
                return "other_client", None
            if rec["state"] == "used":
                return "used", None
            now = time.monotonic()
            last, rec["last_poll"] = rec["last_poll"], now
            rec["polls"] += 1
            state = self._state(rec, now)
            if state == "denied":
                out = "access_denied"
            elif state == "expired":
                out = "expired_token"
            elif (rec["polls"] == 1 and "device_slow_down" in prof) or \
                    (last is not None and now - last < rec["interval"] - DEVICE_SLACK):
                rec["interval"] += 5
                rec["slow_downs"] += 1
                out = "slow_down"
            elif state == "approved":
                rec["state"] = "used"
                out = "ok"
            else:
                out = "authorization_pending"
            if rec["state"] == "pending" and rec["polls"] >= 2 and out != "expired_token":
                if "device_auto" in prof:
                    rec["state"], rec["user"] = "approved", "alice"
                elif "device_auto_bob" in prof:
                    rec["state"], rec["user"] = "approved", "bob"
            return out, dict(rec)


DEVICE_CODES = DeviceCodes()


def server_base():
    host = SERVER_INFO["host"]
    if ":" in host:
        host = "[%s]" % host
    return "%s://%s:%d" % (SERVER_INFO["scheme"], host, SERVER_INFO["port"])


def sub_of(username):
    return "sub-" + hashlib.sha256(username.encode("utf-8")).hexdigest()[:16]


def user_groups(prof, username):
    """The groups members for prof (a dict, empty with groups_missing)."""
    if "groups_missing" in prof:
        return {}
    names = ["staff"] if username == "bob" else ["staff", "ssh-users"]
    value = ",".join(names) if "groups_string" in prof else names
    return {"groups": value, "realm_access": {"roles": value if isinstance(value, str) else list(value)}}


def user_name_claims(prof, username, intro=False):
    if "user_missing" in prof:
        return {}
    if "user_upper" in prof:
        name = username.upper()
    elif "user_other" in prof:
        name = "someone-else"
    else:
        name = username
    out = {"preferred_username": name}
    if intro:
        out = {"username": name, "preferred_username": name}
    return out


class OidcCtx:
    def __init__(self, prof, form, rec, headers, query):
        self.prof = prof
        self.form = form or {}
        self.query = query
        self.headers = headers
        self.base = server_base()
        self.issuer = "%s/o/%s" % (self.base, urllib.parse.quote(prof.name, safe="+")) if prof else None
        basic = rec.get("basic_auth_urldecoded") or rec.get("basic_auth")
        self.has_client_auth = bool(basic) or "authorization" in rec.get("headers", {})
        cid = self.first("client_id")
        if cid is None and basic:
            cid = basic[0]
        self.client_given = cid is not None
        self.client_id = cid or "test-client"
        sec = self.first("client_secret")
        if sec is None and basic:
            sec = basic[1]
        self.client_secret = sec

    def first(self, name, default=None):
        v = self.form.get(name)
        return v[0] if v else default

    def url(self, endpoint):
        return self.issuer + {"discovery": "/.well-known/openid-configuration"}.get(endpoint, "/" + endpoint)


def jwt_encode_part(obj):
    return b64url(json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


def sign_jwt(oc, payload, typ="JWT"):
    """A compact JWS of payload, signed as oc.prof says (attacks included)."""
    prof = oc.prof
    alg = prof.alg
    header = {"alg": alg, "typ": typ}
    key = None
    if prof.key_kind == "rsa":
        key = KEYS.get(prof.rsa_key_name())
    elif prof.key_kind is not None:
        key = KEYS.get(prof.key_kind)
    if key is not None:
        header["kid"] = key.name
    if "alg_none" in prof:
        header = {"alg": "none", "typ": typ}
    elif "hs_with_rsa_pub" in prof:
        header = {"alg": "HS256", "typ": typ, "kid": key.name}
    elif "rogue_key" in prof:
        key = KEYS.get("rogue")         # header kid stays the honest one
    if "kid_missing" in prof and header["alg"] != "none":
        header["kid"] = "nope"
    if "no_kid" in prof:
        header.pop("kid", None)
    signing_input = (jwt_encode_part(header) + "." + jwt_encode_part(payload)).encode("ascii")
    if header["alg"] == "none":
        sig = b""
    elif "hs_with_rsa_pub" in prof:
        sig = hmac.new(key.pub_pem, signing_input, hashlib.sha256).digest()
    elif alg.startswith("HS"):
        secret = (oc.client_secret or "").encode("utf-8")
        sig = hmac.new(secret, signing_input, getattr(hashlib, "sha" + alg[2:])).digest()
    else:
        sig = key.sign(alg, signing_input)
    head_b64, _, body_b64 = signing_input.decode("ascii").partition(".")
    if "tampered" in prof:
        body_b64 = jwt_encode_part(dict(payload, preferred_username="mallory"))
    return "%s.%s.%s" % (head_b64, body_b64, b64url(sig))


def token_claims(oc, username, aud_honest, now):
    """The claims every JWT of a login shares (flags applied)."""
    prof = oc.prof
    iss = oc.issuer + "-other" if "wrong_iss" in prof else oc.issuer
    c = {"iss": iss, "sub": sub_of(username)}
    if "aud_other" in prof:
        c["aud"] = "someone-else"
    elif "multi_aud" in prof or "multi_aud_azp" in prof or "multi_aud_wrong_azp" in prof:
        c["aud"] = [aud_honest, "other"]
    else:
        c["aud"] = aud_honest
    if "multi_aud_azp" in prof:
        c["azp"] = oc.client_id
    elif "multi_aud_wrong_azp" in prof:
        c["azp"] = "other"
    iat = auth_time = now
    exp = now + 3600
    if "expired" in prof:
        exp, iat, auth_time = now - 3600, now - 7200, now - 7200
    if "iat_future" in prof:
        iat = now + 600
    c["exp"], c["iat"] = exp, iat
    if "nbf_future" in prof:
        c["nbf"] = now + 600
    c["auth_time"] = auth_time
    return c


def pad_json(doc):
    """doc with a padding member: valid JSON over 300 KiB."""
    return dict(doc, x_padding="p" * HUGE_PAD)


def discovery_doc(oc):
    prof = oc.prof
    return {
        "issuer": oc.issuer + "-other" if "disc_other_issuer" in prof else oc.issuer,
        "authorization_endpoint": oc.url("auth"),
        "token_endpoint": oc.url("token"),
        "jwks_uri": oc.url("jwks"),
        "introspection_endpoint": oc.url("introspect"),
        "userinfo_endpoint": oc.url("userinfo"),
        "device_authorization_endpoint": oc.url("device"),
        "response_types_supported": ["code", "id_token", "code id_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [prof.alg],
        "grant_types_supported": ["authorization_code", "implicit", "refresh_token",
                                  "client_credentials", DEVICE_GRANT]
                                 + ([MFA_OTP_GRANT] if "mfa_token" in prof else []),
        "scopes_supported": ["openid", "profile", "email", "groups"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic",
                                                          "client_secret_post"],
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "auth_time", "azp",
                             "preferred_username", "email", "groups", "realm_access"],
    }


def jwks_doc(oc):
    prof = oc.prof
    keys = []
    if "jwks_extra_keys" in prof:
        rogue = KEYS.get("rogue")
        keys.append({"kty": "oct", "kid": "oct1", "use": "sig", "alg": "HS256",
                     "k": b64url(OCT_SECRET)})
        priv = {"kty": "RSA", "kid": "rsa-private", "use": "sig", "alg": "RS256"}
        priv.update(rogue.private_members())
        keys.append(priv)
        keys.append(rogue.jwk("RSA-OAEP", kid="rsa-enc", use="enc"))
    if prof.key_kind in ("rsa", None):
        alg = prof.alg if prof.key_kind == "rsa" else "RS256"
        keys.append(KEYS.get(prof.rsa_key_name()).jwk(alg))
    else:
        keys.append(KEYS.get(prof.key_kind).jwk(prof.alg))
    return {"keys": keys}


# --------------------------------------------------------------------------
# request parsing helpers

FORM_SAFE = re.compile(r"[A-Za-z0-9*\-._~%+=&]")
BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def parse_form(raw):
    """-> (form dict or None, error string or None, warnings list)"""
    warnings = []
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError as e:
        return None, "non-ASCII byte 0x%02x at offset %d (not percent-encoded)" % (
            raw[e.start], e.start), warnings
    for m in BAD_PERCENT.finditer(text):
        warnings.append("bad percent escape at offset %d" % m.start())
    odd = sorted({c for c in text if not FORM_SAFE.match(c)})
    if odd:
        warnings.append("characters sent without percent-encoding: %r" % "".join(odd))
    try:
        form = urllib.parse.parse_qs(text, keep_blank_values=True, strict_parsing=True,
                                     encoding="utf-8", errors="strict")
    except (ValueError, UnicodeDecodeError) as e:
        return None, "%s: %s" % (type(e).__name__, e), warnings
    return form, None, warnings


def parse_basic(value):
    """-> (rec dict)   keys basic_auth / basic_auth_urldecoded / basic_auth_error"""
    out = {}
    parts = value.strip().split(None, 1)
    if len(parts) != 2 or parts[0].lower() != "basic":
        return out
    try:
        raw = base64.b64decode(parts[1].strip(), validate=True)
        text = raw.decode("utf-8")
    except (binascii.Error, ValueError) as e:
        out["basic_auth_error"] = "%s: %s" % (type(e).__name__, e)
        return out
    if ":" not in text:
        out["basic_auth_error"] = "no ':' in decoded credentials"
        out["basic_auth_raw"] = text
        return out
    cid, sec = text.split(":", 1)
    out["basic_auth"] = [cid, sec]
    try:
        out["basic_auth_urldecoded"] = [urllib.parse.unquote_plus(cid, errors="strict"),
                                        urllib.parse.unquote_plus(sec, errors="strict")]
    except UnicodeDecodeError:
        out["basic_auth_urldecoded"] = None
    return out


class BodyTooLarge(Exception):
    pass


class BadBody(Exception):
    pass


TOKEN_PATH = re.compile(r"^/s/([^/]+)/token$")
OIDC_PATH = re.compile(r"^/o/([^/]+)(/.*)?$")
CONTROL_ROTATE = "/control/rotate"
CONTROL_DEVICE = "/control/device"
OIDC_ENDPOINTS = {
    "/.well-known/openid-configuration": "discovery",
    "/jwks": "jwks",
    "/token": "token",
    "/introspect": "introspect",
    "/userinfo": "userinfo",
    "/device": "device",
    "/activate": "activate",
}


# --------------------------------------------------------------------------
# HTTP handler

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "testidp/1.0"
    sys_version = ""
    timeout = KEEPALIVE_TIMEOUT

    def log_message(self, fmt, *args):
        debug("%s %s" % (self.address_string(), fmt % args))

    def version_string(self):
        return self.server_version

    # all methods go through one dispatcher
    def do_GET(self):
        self.dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = do_GET

    # -- reading ---------------------------------------------------------
    def read_body(self):
        te = self.headers.get("Transfer-Encoding")
        if te is not None and "chunked" in te.lower():
            chunks, total = [], 0
            while True:
                line = self.rfile.readline(1024)
                if not line.endswith(b"\n"):
                    raise BadBody("bad chunk size line")
                try:
                    size = int(line.split(b";", 1)[0].strip(), 16)
                except ValueError:
                    raise BadBody("bad chunk size line %r" % line[:40])
                if size == 0:
                    while True:   # trailers
                        t = self.rfile.readline(8192)
                        if t in (b"\r\n", b"\n", b""):
                            break
                    return b"".join(chunks)
                total += size
                if total > MAX_REQUEST_BODY:
                    raise BodyTooLarge(total)
                data = self.rfile.read(size)
                if len(data) != size:
                    raise BadBody("short chunk")
                chunks.append(data)
                self.rfile.readline(8)
        cl = self.headers.get("Content-Length")
        if cl is None:
            return b""
        cl = cl.strip()
        if not cl.isdigit():
            raise BadBody("bad Content-Length %r" % cl)
        n = int(cl)
        if n > MAX_REQUEST_BODY:
            raise BodyTooLarge(n)
        data = self.rfile.read(n)
        if len(data) != n:
            raise BadBody("short body: %d of %d bytes" % (len(data), n))
        return data

    # -- logging ---------------------------------------------------------
    def log_request_record(self, scenario, path, query, body, body_error=None, endpoint=None):
        hdrs, hlist = {}, []
        for k, v in self.headers.items():
            hlist.append([k, v])
            lk = k.lower()
            hdrs[lk] = v if lk not in hdrs else hdrs[lk] + ", " + v
        rec = {
            "time": time.time(),
            "seq": _next(_req_counter),
            "conn": getattr(TL, "conn_id", None),
            "client": list(self.client_address[:2]),
            "tls_version": getattr(TL, "tls_version", None),
            "tls_cipher": getattr(TL, "tls_cipher", None),
            "sni": getattr(TL, "sni", None),
            "scenario": scenario,
        }
        if endpoint is not None:
            rec["endpoint"] = endpoint
        rec.update({
            "method": self.command,
            "path": path,
            "query": query,
            "request_line": self.requestline,
            "http_version": self.request_version,
            "headers": hdrs,
            "header_list": hlist,
            "body_len": len(body),
            "body_raw_b64": base64.b64encode(body).decode("ascii"),
        })
        if body_error:
            rec["body_error"] = body_error
        ctype = (hdrs.get("content-type") or "").split(";")[0].strip().lower()
        form, ferr, warns = parse_form(body)
        rec["form"] = form
        if ferr:
            rec["form_error"] = ferr
        if ctype != "application/x-www-form-urlencoded" and (body or self.command == "POST"):
            warns.append("Content-Type is %r" % hdrs.get("content-type"))
        rec["form_warnings"] = warns
        if "authorization" in hdrs:
            rec.update(parse_basic(hdrs["authorization"]))
        REQUEST_LOG.write(rec)
        return form, rec.get("basic_auth"), rec

    # -- writing ---------------------------------------------------------
    def send_plain(self, status, body, ctype="application/json", headers=(), ctx=None):
        if status == 204 or status == 304 or 100 <= status < 200:
            body = b""
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        if status != 204:
            self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v(ctx) if callable(v) else v)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)

    def raw(self, data):
        self.wfile.write(data)
        try:
            self.wfile.flush()
        except AttributeError:
            pass

    def dispatch(self):
        try:
            self._dispatch()
        except (ConnectionError, ssl.SSLError, socket.timeout, OSError) as e:
            debug("connection error: %r" % e)
            self.close_connection = True

    def _dispatch(self):
        split = urllib.parse.urlsplit(self.path)
        path = split.path
        query = urllib.parse.parse_qs(split.query, keep_blank_values=True)

        if self.command in ("GET", "HEAD") and path == "/health":
            self.read_body()
            return self.send_plain(200, b"ok\n", "text/plain")
        if self.command == "GET" and path == "/scenarios":
            self.read_body()
            listing = {k: v.status for k, v in public_scenarios().items()}
            return self.send_plain(200, json.dumps(listing, sort_keys=True).encode(), JSON)

        m = OIDC_PATH.match(path)
        if m is not None or path in (CONTROL_ROTATE, CONTROL_DEVICE):
            return self.dispatch_oidc(m, path, query)

        m = TOKEN_PATH.match(path)
        scenario = urllib.parse.unquote(m.group(1)) if m else None

        body_error = None
        try:
            body = self.read_body()
        except BodyTooLarge as e:
            self.close_connection = True
            self.log_request_record(scenario, path, query, b"", "body too large: %s bytes" % e)
            return self.send_plain(413, b'{"error":"invalid_request","error_description":"body too large"}')
        except BadBody as e:
            self.close_connection = True
            body, body_error = b"", str(e)

        form, basic, _ = self.log_request_record(scenario, path, query, body, body_error)

        if m is None:
            return self.send_plain(404, json.dumps({"error": "not_found", "path": path}).encode())
        sc = SCENARIOS.get(scenario) if not scenario.startswith("_") else None
        if sc is None:
            return self.send_plain(404, json.dumps({"error": "unknown_scenario",
                                                    "scenario": scenario}).encode())
        if self.command != "POST":
            return self.send_plain(405, b'{"error":"invalid_request","error_description":"method not allowed"}',
                                   headers=[("Allow", "POST")])

        ctx = Ctx(form, basic, query, scenario)
        if sc.dynamic:
            sc = sc.dynamic(ctx)
        delay = ctx.qfloat("delay", 0.0)
        if delay > 0 and STOP.wait(delay):
            self.close_connection = True
            return

        if sc.special:
            self.close_connection = True
            return getattr(self, "special_" + sc.special)(sc, ctx)
        self.send_plain(sc.status, body_bytes(sc.body, ctx), sc.ctype, sc.headers, ctx)

    # -- OpenID Connect ---------------------------------------------------
    def send_json(self, status, doc, headers=()):
        body = doc if isinstance(doc, bytes) else json.dumps(
            doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        self.send_plain(status, body, JSON, headers)

    def oidc_method(self, allowed):
        if self.command in allowed or (self.command == "HEAD" and "GET" in allowed):
            return True
        self.send_json(405, {"error": "invalid_request", "error_description": "method not allowed"},
                       [("Allow", ", ".join(allowed))])
        return False

    def dispatch_oidc(self, m, path, query):
        if m is None:
            scenario, endpoint = "control", "control"
        else:
            scenario = urllib.parse.unquote(m.group(1))
            endpoint = OIDC_ENDPOINTS.get(m.group(2) or "")
        body_error = None
        try:
            body = self.read_body()
        except BodyTooLarge as e:
            self.close_connection = True
            self.log_request_record(scenario, path, query, b"", "body too large: %s bytes" % e,
                                    endpoint=endpoint)
            return self.send_json(413, {"error": "invalid_request",
                                        "error_description": "body too large"})
        except BadBody as e:
            self.close_connection = True
            body, body_error = b"", str(e)
        form, _, rec = self.log_request_record(scenario, path, query, body, body_error,
                                               endpoint=endpoint)
        try:
            if m is None:
                if path == CONTROL_DEVICE:
                    return self.oidc_control_device(form, query)
                return self.oidc_control(form)
            prof, perr = parse_profile(scenario)
            if perr is not None:
                return self.send_json(404, perr)
            if endpoint is None:
                return self.send_json(404, {"error": "not_found", "path": path})
            oc = OidcCtx(prof, form, rec, rec.get("headers", {}), query)
            delay = Ctx(None, None, query, scenario).qfloat("delay", 0.0)
            if delay > 0 and STOP.wait(delay):
                self.close_connection = True
                return
            return getattr(self, "oidc_" + endpoint)(oc)
        except OidcError as e:
            debug("OIDC %s: %s" % (path, e))
            return self.send_json(500, {"error": "server_error", "error_description": str(e)})
        except (ConnectionError, ssl.SSLError, socket.timeout):
            raise
        except Exception as e:      # a bug here: say so loudly, but answer
            sys.stderr.write("testidp: error in OIDC %s:\n" % path)
            traceback.print_exc(file=sys.stderr)
            self.close_connection = True
            return self.send_json(500, {"error": "server_error",
                                        "error_description": "testidp bug: %r" % e})

    def oidc_control(self, form):
        if not self.oidc_method(("POST",)):
            return
        name = ((form or {}).get("profile") or [None])[0]
        if not name:
            return self.send_json(400, {"error": "invalid_request",
                                        "error_description": "profile= is required"})
        prof, perr = parse_profile(name)
        if perr is not None:
            return self.send_json(404, perr)
        KEYS.get("rsa2")
        with _rotated_lock:
            _rotated.add(name)
        return self.send_json(200, {"profile": name, "kid": "rsa2"})

    def oidc_control_device(self, form, query):
        if not self.oidc_method(("GET", "POST")):
            return
        if self.command in ("GET", "HEAD"):
            q = {k: v[0] for k, v in query.items() if v}
            if not (q.get("user_code") or q.get("device_code")):
                return self.send_json(400, {"error": "invalid_request",
                                            "error_description": "user_code= or device_code= "
                                                                 "is required"})
            rec = DEVICE_CODES.find(q.get("user_code"), q.get("device_code"), q.get("profile"))
            if rec is None:
                return self.send_json(404, {"error": "unknown_code",
                                            "error_description": "no such device code"})
            return self.send_json(200, rec, NO_STORE)
        f = {k: v[0] for k, v in (form or {}).items() if v}
        code, action, user = f.get("user_code"), f.get("action"), f.get("user")
        if not code:
            return self.send_json(400, {"error": "invalid_request",
                                        "error_description": "user_code= is required"})
        if action not in ("approve", "deny"):
            return self.send_json(400, {"error": "invalid_request",
                                        "error_description": "action= must be approve or deny"})
        if action == "approve" and not user:
            return self.send_json(400, {"error": "invalid_request",
                                        "error_description": "user= is required to approve"})
        status, doc = DEVICE_CODES.decide(code, action, user, f.get("profile"))
        return self.send_json(status, doc, NO_STORE)

    def oidc_hostile(self, oc, what):
        """The disc_/jwks_ hostility shared by discovery and JWKS; True if answered."""
        prof = oc.prof
        if what + "_redirect" in prof and "redirected" not in oc.query:
            self.send_plain(302, b"", None, [("Location", oc.url(
                "discovery" if what == "disc" else "jwks") + "?redirected=1")])
            return True
        if what + "_500" in prof:
            self.send_json(500, {"error": "server_error", "error_description": "Internal Server Error"})
            return True
        if what + "_garbage" in prof:
            self.send_plain(200, b"<html><body><h1>It works!</h1></body></html>\n", JSON)
            return True
        return False

    def oidc_discovery(self, oc):
        if not self.oidc_method(("GET",)) or self.oidc_hostile(oc, "disc"):
            return
        doc = discovery_doc(oc)
        if "disc_bad_device" in oc.prof:
            doc["device_authorization_endpoint"] = doc["device_authorization_endpoint"].replace(
                "https://", "http://", 1)
        self.send_json(200, pad_json(doc) if "disc_huge" in oc.prof else doc)

    def oidc_jwks(self, oc):
        if not self.oidc_method(("GET",)) or self.oidc_hostile(oc, "jwks"):
            return
        doc = jwks_doc(oc)
        self.send_json(200, pad_json(doc) if "jwks_huge" in oc.prof else doc)

    def oidc_token(self, oc):
        if not self.oidc_method(("POST",)):
            return
        prof = oc.prof
        gt = oc.first("grant_type")
        if gt is None:
            return self.send_json(400, {"error": "invalid_request",
                                        "error_description": "Missing parameter: grant_type"},
                                  NO_STORE)
        if gt == DEVICE_GRANT:
            return self.oidc_token_device(oc)
        if gt == MFA_OTP_GRANT and "mfa_token" in prof:
            return self.oidc_token_mfa_otp(oc)
        if gt != "password":
            return self.send_json(400, {"error": "unsupported_grant_type",
                                        "error_description": "Unsupported grant_type %s" % gt}, NO_STORE)
        return self.oidc_token_password(oc)

    def send_invalid_credentials(self, status=400):
        self.send_json(status, {"error": "invalid_grant",
                                "error_description": "Invalid user credentials"}, NO_STORE)

    def oidc_token_password(self, oc):
        prof = oc.prof
        password = oc.first("password")
        user = oc.first("username", "")
        if "otp_param" in prof or "otp_param_totp" in prof:
            name = "totp" if "otp_param_totp" in prof else "otp"
            if password != "correct horse" or oc.first(name) != OTP_CODE:
                return self.send_invalid_credentials(401)
        elif "otp_append" in prof or "otp_append_colon" in prof:
            sep = ":" if "otp_append_colon" in prof else ""
            if password != "correct horse" + sep + OTP_CODE:
                return self.send_invalid_credentials()
        elif password != "correct horse":
            return self.send_invalid_credentials()
        elif "mfa_required_only" in prof:
            sc = SCENARIOS["entra_mfa"]          # the same body as /s/entra_mfa
            return self.send_plain(sc.status, body_bytes(sc.body, None), sc.ctype, sc.headers)
        elif "mfa_token" in prof:
            doc = {"error": "mfa_required", "error_description": MFA_REQUIRED_DESC}
            if "mfa_no_token" not in prof:
                doc["mfa_token"] = MFA_TOKENS.add(prof.name, user, oc.client_id,
                                                  oc.first("scope", ""),
                                                  expired="mfa_expired" in prof)
            return self.send_json(403, doc, NO_STORE)
        return self.send_login(oc, user, oc.first("scope", ""))

    def oidc_token_mfa_otp(self, oc):
        prof = oc.prof
        token = oc.first("mfa_token")
        if not token:
            return self.send_json(400, {"error": "invalid_request",
                                        "error_description": "Missing parameter: mfa_token"},
                                  NO_STORE)
        outcome, rec = MFA_TOKENS.redeem(prof.name, token, oc.client_id,
                                         oc.first("otp") == OTP_CODE)
        if outcome == "unknown":
            return self.send_json(400, {"error": "invalid_grant",
                                        "error_description": "Invalid mfa_token"}, NO_STORE)
        if outcome == "wrong_code":
            return self.send_json(403, {"error": "invalid_grant",
                                        "error_description": "Invalid one-time password"},
                                  NO_STORE)
        user = "mallory" if "mfa_other_user" in prof else rec["user"]
        return self.send_login(oc, user, oc.first("scope") or rec["scope"])

    DEVICE_ERRORS = {
        "unknown": ("invalid_grant", "Invalid device_code"),
        "other_client": ("invalid_grant", "The device_code was issued to another client"),
        "used": ("invalid_grant", "The device_code has already been used"),
        "access_denied": ("access_denied", "The end-user denied the authorization request"),
        "expired_token": ("expired_token", "The device_code has expired"),
        "slow_down": ("slow_down", "Polling too fast: the interval is now longer by 5 s"),
        "authorization_pending": ("authorization_pending",
                                  "The authorization request is still pending"),
    }

    def oidc_token_device(self, oc):
        code = oc.first("device_code")
        if not code:
            return self.send_json(400, {"error": "invalid_request",
                                        "error_description": "Missing parameter: device_code"},
                                  NO_STORE)
        outcome, rec = DEVICE_CODES.poll(oc.prof, code, oc.client_id)
        if outcome != "ok":
            error, desc = self.DEVICE_ERRORS[outcome]
            return self.send_json(400, {"error": error, "error_description": desc}, NO_STORE)
        return self.send_login(oc, rec["user"], rec["scope"])

    def send_login(self, oc, user, requested):
        """The 200 login answer for user (flags applied)."""
        prof = oc.prof
        scope = "openid" if "scope_partial" in prof else (requested or "openid profile email")
        resource = oc.first("resource") or "api://default"
        now = int(time.time())
        ident = {"email": user + "@example.com"}
        groups = user_groups(prof, user)

        if "jwt_at" in prof:
            at_claims = token_claims(oc, user, resource, now)
            at_claims.update(jti=secrets.token_hex(16), client_id=oc.client_id, scope=scope)
            at_claims.update(user_name_claims(prof, user))
            at_claims.update(ident)
            at_claims.update(groups)
            access_token = sign_jwt(oc, at_claims, typ="at+jwt")
        else:
            access_token = secrets.token_urlsafe(32)
        ISSUED.add(prof.name, access_token, dict(
            {"sub": sub_of(user), "client_id": oc.client_id, "scope": scope,
             "exp": now + 3600, "iat": now, "iss": oc.issuer, "aud": resource,
             "token_type": "Bearer"},
            **user_name_claims(prof, user, intro=True), **ident, **groups))

        answer = {"access_token": access_token, "token_type": "Bearer", "expires_in": 3600,
                  "scope": scope}
        if "no_id_token" not in prof:
            claims = token_claims(oc, user, oc.client_id, now)
            claims.update(user_name_claims(prof, user))
            claims.update(ident)
            claims.update(groups)
            answer["id_token"] = sign_jwt(oc, claims)
        self.send_json(200, answer, NO_STORE)

    def oidc_introspect(self, oc):
        if not self.oidc_method(("POST",)):
            return
        prof = oc.prof
        if not (oc.has_client_auth or oc.client_given):
            return self.send_json(401, {"error": "invalid_client",
                                        "error_description": "client authentication required"},
                                  NO_STORE + [("WWW-Authenticate", 'Basic realm="testidp"')])
        token = oc.first("token")
        if not token:
            return self.send_json(400, {"error": "invalid_request",
                                        "error_description": "Missing parameter: token"}, NO_STORE)
        if "intro_500" in prof:
            return self.send_json(500, {"error": "server_error"}, NO_STORE)
        if "intro_401" in prof:
            return self.send_json(401, {"error": "invalid_client",
                                        "error_description": "Client authentication failed"},
                                  NO_STORE)
        if "intro_redirect" in prof and "redirected" not in oc.query:
            return self.send_plain(302, b"", None, [("Location", oc.url("introspect") +
                                                     "?redirected=1")])
        rec = None if "intro_inactive" in prof else ISSUED.get(prof.name, token)
        if rec is None:
            doc = {"active": False}
        else:
            doc = {"active": "true" if "intro_active_string" in prof else True}
            doc.update(rec)
            if "intro_other_client" in prof:
                doc["client_id"] = "someone-else"
            if "intro_clientId" in prof:
                doc["clientId"] = doc.pop("client_id")
            if "intro_expired" in prof:
                doc["exp"] = int(time.time()) - 600
            if "intro_exp_nan" in prof:
                doc["exp"] = float("nan")     # json.dumps writes NaN
        self.send_json(200, pad_json(doc) if "intro_huge" in prof else doc, NO_STORE)

    def oidc_userinfo(self, oc):
        if not self.oidc_method(("GET", "POST")):
            return
        prof = oc.prof
        auth = oc.headers.get("authorization", "")
        parts = auth.split(None, 1)
        rec = None
        if len(parts) == 2 and parts[0].lower() == "bearer" and "userinfo_401" not in prof:
            rec = ISSUED.get(prof.name, parts[1].strip())
        if rec is None:
            why = 'Bearer error="invalid_token"' if auth else 'Bearer realm="testidp"'
            return self.send_json(401, {"error": "invalid_token",
                                        "error_description": "no valid access token"},
                                  NO_STORE + [("WWW-Authenticate", why)])
        doc = {"sub": sub_of("someone-else") if "userinfo_other_sub" in prof else rec["sub"]}
        if "userinfo_no_sub" in prof:
            del doc["sub"]
        if "preferred_username" in rec:
            doc["preferred_username"] = rec["preferred_username"]
        doc["email"] = rec["email"]
        doc["email_verified"] = True
        for k in ("groups", "realm_access"):
            if k in rec:
                doc[k] = rec[k]
        self.send_json(200, doc, NO_STORE)

    def oidc_device(self, oc):
        if not self.oidc_method(("POST",)):
            return
        prof = oc.prof
        if not (oc.client_given or oc.has_client_auth):
            return self.send_json(401, {"error": "invalid_client",
                                        "error_description": "client_id is required"},
                                  NO_STORE + [("WWW-Authenticate", 'Basic realm="testidp"')])
        expires_in = 10 if "device_short" in prof else 600
        if "device_interval_none" in prof:
            interval = None
        else:
            interval = 2 if "device_interval_2" in prof else 1
        rec = DEVICE_CODES.add(prof.name, oc.client_id, oc.first("scope", ""), expires_in,
                               DEVICE_DEFAULT_INTERVAL if interval is None else interval)
        doc = {"device_code": rec["device_code"], "user_code": rec["user_code"],
               "verification_uri": oc.issuer + "/activate",
               "verification_uri_complete": oc.issuer + "/activate?user_code="
                                            + urllib.parse.quote(rec["user_code"]),
               "expires_in": expires_in}
        if interval is not None:
            doc["interval"] = interval
        self.send_json(200, doc, NO_STORE)

    def oidc_activate(self, oc):
        if not self.oidc_method(("GET",)):
            return
        esc = html.escape
        code = (oc.query.get("user_code") or [""])[0]
        status = 200
        if not code:
            text = ('<form method="get"><label>Code: <input name="user_code" autofocus>'
                    '</label> <button>Next</button></form>')
        else:
            rec = DEVICE_CODES.find(user_code=code, profile=oc.prof.name)
            if rec is None:
                status = 404
                text = "<p>Unknown code %s.</p>" % esc(code)
            else:
                text = ("<p>Code <b>%s</b> (client %s, scope %s): %s.</p>"
                        % (esc(rec["user_code"]), esc(rec["client_id"]), esc(rec["scope"]),
                           esc(rec["state"])))
                if rec["state"] == "pending":
                    text += ('<form method="post" action="/control/device">'
                             '<input type="hidden" name="user_code" value="%s">'
                             '<input type="hidden" name="profile" value="%s">'
                             '<label>Sign in as <input name="user" value="alice"></label> '
                             '<button name="action" value="approve">Approve</button> '
                             '<button name="action" value="deny">Deny</button></form>'
                             % (esc(rec["user_code"], quote=True), esc(oc.prof.name, quote=True)))
        page = ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
                '<title>Device login</title></head>\n<body><h1>Device login</h1>\n%s\n'
                '</body></html>\n' % text)
        self.send_plain(status, page.encode("utf-8"), "text/html; charset=utf-8", NO_STORE)

    # -- raw behaviours ---------------------------------------------------
    def head_bytes(self, sc, ctx, body_len, version="HTTP/1.1", extra=()):
        lines = ["%s %d %s" % (version, sc.status, self.responses.get(sc.status, ("",))[0]),
                 "Server: " + self.version_string(),
                 "Date: " + self.date_time_string()]
        if sc.ctype:
            lines.append("Content-Type: " + sc.ctype)
        if body_len is not None:
            lines.append("Content-Length: %d" % body_len)
        for k, v in list(sc.headers) + list(extra):
            lines.append("%s: %s" % (k, v(ctx) if callable(v) else v))
        lines.append("Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def special_stall(self, sc, ctx):
        STOP.wait(CONFIG["max_lifetime"])

    def special_stall_after_headers(self, sc, ctx):
        self.raw(self.head_bytes(S(200, ctype=JSON), ctx, 100))
        STOP.wait(CONFIG["max_lifetime"])

    def _drip(self, data, interval):
        for i in range(len(data)):
            if STOP.is_set():
                return
            self.raw(data[i:i + 1])
            if i + 1 < len(data) and STOP.wait(interval):
                return

    def special_slow_drip(self, sc, ctx):
        body = body_bytes(sc.body, ctx)
        self._drip(self.head_bytes(sc, ctx, len(body)) + body, ctx.qfloat("interval", 1.0))

    def special_slow_body(self, sc, ctx):
        body = body_bytes(sc.body, ctx)
        self.raw(self.head_bytes(sc, ctx, len(body)))
        self._drip(body, ctx.qfloat("interval", 1.0))

    def special_close_mid_body(self, sc, ctx):
        self.raw(self.head_bytes(S(200, ctype=JSON), ctx, 1000) + b'{"access_t')

    def special_close_immediately(self, sc, ctx):
        pass   # connection is closed by the server after the handler returns

    def special_reset(self, sc, ctx):
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        TL.no_close_notify = True

    def special_close_delimited(self, sc, ctx):
        body = body_bytes(sc.body, ctx)
        self.raw(self.head_bytes(sc, ctx, None, version="HTTP/1.0") + body)
        TL.close_notify = True

    def special_chunked(self, sc, ctx):
        body = body_bytes(sc.body, ctx)
        self.raw(self.head_bytes(sc, ctx, None, extra=[("Transfer-Encoding", "chunked")]))
        step = 16 * KiB
        for off in range(0, len(body), step):
            if STOP.is_set():
                return
            piece = body[off:off + step]
            self.raw(b"%x\r\n" % len(piece) + piece + b"\r\n")
        self.raw(b"0\r\n\r\n")


# --------------------------------------------------------------------------
# servers

class IdPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr, family, ssl_ctx):
        self.address_family = family
        self.ssl_ctx = ssl_ctx
        super().__init__(addr, Handler)

    def server_bind(self):
        # skip HTTPServer.server_bind's getfqdn() (a DNS lookup)
        socketserver.TCPServer.server_bind(self)
        self.server_name = self.server_address[0]
        self.server_port = self.server_address[1]

    def finish_request(self, request, client_address):
        TL.conn_id = _next(_conn_counter)
        TL.tls_version = TL.tls_cipher = TL.sni = None
        TL.close_notify = TL.no_close_notify = False
        conn = request
        client = list(client_address[:2])
        if self.ssl_ctx is not None:
            request.settimeout(HANDSHAKE_TIMEOUT)
            try:
                conn = self.ssl_ctx.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError) as e:
                event("tls_handshake_failed", conn=TL.conn_id, client=client, error=str(e))
                debug("TLS handshake failed from %s: %s" % (client, e))
                return
            TL.tls_version = conn.version()
            TL.tls_cipher = (conn.cipher() or [None])[0]
            TL.sni = getattr(conn, "_testidp_sni", None)
            event("tls_handshake_ok", conn=TL.conn_id, client=client, tls_version=TL.tls_version,
                  cipher=(conn.cipher() or [None])[0], sni=TL.sni,
                  alpn=conn.selected_alpn_protocol())
        else:
            event("tcp_accept", conn=TL.conn_id, client=client)
        try:
            Handler(conn, client_address, self)
        finally:
            if conn is not request:
                if TL.close_notify and not TL.no_close_notify:
                    try:
                        conn.settimeout(0.5)
                        conn.unwrap()
                    except (ssl.SSLError, OSError, ValueError):
                        pass
                try:
                    conn.close()
                except OSError:
                    pass

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, ssl.SSLError, socket.timeout)):
            debug("connection error from %s: %r" % (client_address, exc))
            return
        sys.stderr.write("testidp: error while handling %s:\n" % (client_address,))
        traceback.print_exc(file=sys.stderr)


class SilentListener:
    """accept_silent: accept TCP connections, never read or write anything."""

    def __init__(self, addr, family):
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(addr)
        self.sock.listen(128)
        self.server_address = self.sock.getsockname()
        self.conns = []
        self.thread = None

    def serve_forever(self, poll_interval=0.1):
        self.sock.settimeout(poll_interval)
        while not STOP.is_set():
            try:
                c, a = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                if STOP.is_set():
                    break
                raise
            self.conns.append(c)
            event("tcp_accept_silent", conn=_next(_conn_counter), client=list(a[:2]))

    def shutdown(self):
        STOP.set()

    def server_close(self):
        for c in self.conns:
            try:
                c.close()
            except OSError:
                pass
        self.sock.close()


# --------------------------------------------------------------------------
# main

TLS_VERSIONS = {
    "1.0": ssl.TLSVersion.TLSv1,
    "1.1": ssl.TLSVersion.TLSv1_1,
    "1.2": ssl.TLSVersion.TLSv1_2,
    "1.3": ssl.TLSVersion.TLSv1_3,
}


def make_ssl_context(args):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    lo = TLS_VERSIONS.get(args.tls_min)
    hi = TLS_VERSIONS.get(args.tls_max)
    if lo and hi and lo > hi:
        raise SystemExit("testidp: --tls-min is above --tls-max")
    legacy = (lo is not None and lo < ssl.TLSVersion.TLSv1_2) or \
             (hi is not None and hi < ssl.TLSVersion.TLSv1_2)
    with warnings.catch_warnings():
        # ssl.TLSVersion.TLSv1/TLSv1_1 are deprecated: that is the point here.
        warnings.simplefilter("ignore", DeprecationWarning)
        if legacy:
            # OpenSSL 3 refuses TLS 1.0/1.1 at security level >= 1; drop to 0.
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
            ctx.minimum_version = lo or ssl.TLSVersion.TLSv1
        elif lo:
            ctx.minimum_version = lo
        if hi:
            ctx.maximum_version = hi
    ctx.load_cert_chain(args.cert, args.key)
    ctx.set_alpn_protocols(["http/1.1"])

    def sni_cb(sslsock, server_name, _ctx):
        try:
            sslsock._testidp_sni = server_name
        except AttributeError:
            pass
    ctx.sni_callback = sni_cb
    return ctx


def loopback_family(host):
    if host == "localhost":
        host = "127.0.0.1"
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        raise SystemExit("testidp: --host must be a loopback IP address, got %r" % host)
    if not ip.is_loopback:
        raise SystemExit("testidp: refusing to listen on non-loopback address %s" % host)
    return host, (socket.AF_INET6 if ip.version == 6 else socket.AF_INET)


def write_port_file(path, port):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def list_scenarios(as_json):
    sc = public_scenarios()
    if as_json:
        print(json.dumps({k: {"status": v.status, "special": v.special, "note": v.note}
                          for k, v in sc.items()}, indent=1))
        return
    for k, v in sc.items():
        status = "-" if v.status == 0 else str(v.status)
        if v.dynamic:
            status = "200/400"
        print("%-32s %-7s %s" % (k, status, v.note))


def list_flags(as_json):
    if as_json:
        print(json.dumps({k: {"group": g, "note": n} for k, (g, n) in OIDC_FLAGS.items()},
                         indent=1))
        return
    for k, (g, n) in OIDC_FLAGS.items():
        print("%-22s %-8s %s" % (k, g or "-", n))


def parse_args(argv):
    p = argparse.ArgumentParser(description="scriptable HTTPS test IdP (OAuth2 token endpoint)")
    p.add_argument("--cert", help="server certificate chain (PEM)")
    p.add_argument("--key", help="server private key (PEM)")
    p.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=0, help="port, 0 = pick a free one (default)")
    p.add_argument("--port-file", help="write the bound port here (atomically) when ready")
    p.add_argument("--log", help="append one JSON line per request here")
    p.add_argument("--events", help="append connection-level events (TLS handshakes) here")
    p.add_argument("--tls-min", choices=sorted(TLS_VERSIONS))
    p.add_argument("--tls-max", choices=sorted(TLS_VERSIONS))
    p.add_argument("--plain-tcp-mode", choices=["accept_silent", "plain_http"],
                   help="accept_silent: raw TCP, never handshake; plain_http: scenarios without TLS")
    p.add_argument("--max-lifetime", type=float, default=600.0,
                   help="exit (status 3) after this many seconds (default 600)")
    p.add_argument("--verbose", "-v", action="store_true")
    p.add_argument("--list-scenarios", action="store_true", help="print the scenario table and exit")
    p.add_argument("--list-flags", action="store_true",
                   help="print the OIDC profile flags and exit")
    p.add_argument("--json", action="store_true", help="with --list-scenarios/--list-flags: JSON output")
    args = p.parse_args(argv)
    if args.list_scenarios or args.list_flags:
        return args
    if not args.port_file:
        p.error("--port-file is required")
    if args.plain_tcp_mode is None and not (args.cert and args.key):
        p.error("--cert and --key are required (unless --plain-tcp-mode)")
    if not 0 <= args.port <= 65535:
        p.error("bad --port")
    if not args.max_lifetime > 0:
        p.error("--max-lifetime must be > 0")
    return args


def main(argv=None):
    global REQUEST_LOG, EVENT_LOG
    args = parse_args(argv)
    if args.list_scenarios:
        list_scenarios(args.json)
        return 0
    if args.list_flags:
        list_flags(args.json)
        return 0
    host, family = loopback_family(args.host)
    CONFIG["max_lifetime"] = args.max_lifetime
    CONFIG["verbose"] = args.verbose
    started = time.monotonic()

    # Signals are taken synchronously by the main thread (sigtimedwait); block
    # them before any thread exists so every thread inherits the mask.
    sigs = {signal.SIGTERM, signal.SIGINT, signal.SIGHUP}
    for s in sigs:
        signal.signal(s, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_BLOCK, sigs)

    REQUEST_LOG = JsonLinesLog(args.log)
    EVENT_LOG = JsonLinesLog(args.events)

    if args.plain_tcp_mode == "accept_silent":
        server = SilentListener((host, args.port), family)
        scheme = "tcp"
    else:
        ssl_ctx = None if args.plain_tcp_mode == "plain_http" else make_ssl_context(args)
        server = IdPServer((host, args.port), family, ssl_ctx)
        scheme = "http" if ssl_ctx is None else "https"
    port = server.server_address[1]
    SERVER_INFO.update(scheme=scheme, host=host, port=port)

    t = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                         name="serve", daemon=True)
    t.start()
    write_port_file(args.port_file, port)
    debug("listening on %s %s port %d (pid %d, ready in %.3fs)"
          % (scheme, host, port, os.getpid(), time.monotonic() - started))

    remaining = args.max_lifetime - (time.monotonic() - started)
    got = signal.sigtimedwait(sigs, max(remaining, 0.001))
    rc = 0 if got is not None else 3
    if got is None:
        sys.stderr.write("testidp: max lifetime (%gs) reached, exiting\n" % args.max_lifetime)
    debug("stopping (%s)" % (got.si_signo if got else "lifetime"))

    # Hard stop if something below hangs.
    watchdog = threading.Timer(5.0, os._exit, (rc,))
    watchdog.daemon = True
    watchdog.start()
    STOP.set()
    KEYS.cleanup()
    server.shutdown()
    server.server_close()
    sys.stdout.flush()
    sys.stderr.flush()
    return rc


if __name__ == "__main__":
    sys.exit(main())
