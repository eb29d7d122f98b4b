#!/usr/bin/env python3
"""make-corpus.py: (re)write the seed corpus of the pam_ropc fuzz targets.

    python3 tests/fuzz/make-corpus.py [--check]

Writes tests/fuzz/corpus/<target>/<name> for fuzz-response, fuzz-config,
fuzz-sanitize and fuzz-form, in the input formats their .c files describe.
The IdP answers come from the scenario table of tests/idp/testidp.py (made
deterministic: fixed clock, counters instead of random tokens and UUIDs)
plus the hand-written ones below; the config seeds include
pam.d-examples/pam_ropc.conf.  The output is the same on every run, so the
committed corpus can be checked against it: --check only reports files that
differ, are missing or are extra (exit 1 if any).

Files the fuzzers found on their own go to tests/fuzz/regressions/, not here.
"""

import hashlib
import json
import os
import sys
import time as _time
import types
import uuid as _uuid

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(TOP, "tests", "idp"))

import testidp  # noqa: E402

# -- deterministic testidp ----------------------------------------------------

FIXED_NOW = 1767225600  # 2026-01-01T00:00:00Z
_counter = [0]


def _next_bytes(n):
    _counter[0] += 1
    out = b""
    i = 0
    while len(out) < n:
        out += hashlib.sha256(b"pam_ropc-corpus-%d-%d" % (_counter[0], i)).digest()
        i += 1
    return out[:n]


def _token_hex(n=32):
    return _next_bytes(n).hex()


def _token_urlsafe(n=32):
    return testidp.b64url(_next_bytes(n))


testidp.secrets = types.SimpleNamespace(token_hex=_token_hex, token_urlsafe=_token_urlsafe)
testidp.uuid = types.SimpleNamespace(uuid4=lambda: _uuid.UUID(bytes=_next_bytes(16), version=4))
testidp.time = types.SimpleNamespace(time=lambda: float(FIXED_NOW),
                                     gmtime=lambda *a: _time.gmtime(FIXED_NOW),
                                     strftime=_time.strftime, sleep=_time.sleep)
testidp.SERVER_INFO.update(host="127.0.0.1", port=8443)

# -- fuzz-response --------------------------------------------------------------

RESPONSE_MAX = 40000          # keep in step with run-fuzzers.sh -max_len
NET = {"ok": "0", "connect": "1", "timeout": "2", "tls": "3", "too_big": "4", "error": "5"}


def response(status, body, net="ok", settings=True):
    """The input of fuzz-response: 3 status digits, the net byte, the body."""
    if isinstance(body, (dict, list)):
        body = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    if isinstance(body, str):
        body = body.encode("utf-8")
    n = NET[net]
    if not settings:
        n = chr(ord(n) - 0x10)   # bit 0x10 clear: NULL settings
    return b"%03d" % status + n.encode() + body


def scenario_seeds():
    out = {}
    for name, sc in testidp.public_scenarios().items():
        if sc.dynamic is not None or sc.status == 0:
            continue
        ctx = testidp.Ctx({"username": ["alice"], "password": ["pw"]}, None, {}, name)
        body = testidp.body_bytes(sc.body, ctx)
        if len(body) + 4 > RESPONSE_MAX:
            continue                       # the huge ones: smaller copies below
        out["idp-" + name] = response(sc.status, body)
    return out


def onelogin_seeds():
    # Both OneLogin shapes of every message are in testidp's table
    # (onelogin_<x>, onelogin_<x>_status); these are the other shapes.
    out = {}
    out["onelogin-newer-api"] = response(
        401, {"statusCode": 401, "name": "Unauthorized", "message": "Authentication Failed"})
    out["onelogin-status-not-object"] = response(401, {"status": "Unauthorized",
                                                       "message": "Access is unauthorized"})
    return out


def hand_seeds():
    tok = "tok-" + "0123456789abcdef" * 2
    s = {}
    # Successes.
    s["ok-full"] = response(200, {"access_token": tok, "token_type": "Bearer", "expires_in": 3600,
                                  "scope": "openid profile", "id_token": "eyJhbGciOiJub25lIn0.e30.",
                                  "refresh_token": "r-" + tok})
    s["ok-minimal-no-settings"] = response(200, {"access_token": "x"}, settings=False)
    s["ok-whitespace"] = response(200, ' \r\n\t{ "access_token" : "%s" ,\n "token_type":"Bearer" }\r\n ' % tok)
    s["ok-unicode-escapes"] = response(200, '{"access_token":"\\u0074ok","scope":"a\\u0020b",'
                                            '"x":"\\ud83d\\ude00","y":"\\u00e9"}')
    s["ok-token-max"] = response(200, '{"access_token":"%s"}' % ("A" * 32768))
    s["token-too-long"] = response(200, '{"access_token":"%s"}' % ("A" * 32769))
    s["token-non-ascii"] = response(200, '{"access_token":"t\\u00e9k"}')
    s["token-nul-escape"] = response(200, '{"access_token":"a\\u0000b"}')
    s["token-del"] = response(200, '{"access_token":"a\\u007fb"}')
    s["token-type-space"] = response(200, '{"access_token":"x","token_type":"Bearer x"}')
    s["token-type-long"] = response(200, '{"access_token":"x","token_type":"%s"}' % ("B" * 65))
    s["scope-quote"] = response(200, '{"access_token":"x","scope":"a\\"b"}')
    s["id-token-space"] = response(200, '{"access_token":"x","id_token":"a b","refresh_token":7}')
    for i, v in enumerate(['"-1"', '"3600abc"', '""', "0", "316224000", "316224001",
                           "9223372036854775807", '" 12"', "null"]):
        s["expires-in-%02d" % i] = response(200, '{"access_token":"x","expires_in":%s}' % v)
    # Parser edges.
    for name, body in [("empty", ""), ("space", "   \n"), ("null", "null"), ("array", "[]"),
                       ("string", '"access_token"'), ("number", "200"), ("obj-empty", "{}"),
                       ("trailing-garbage", '{"access_token":"x"} x'),
                       ("two-objects", '{"access_token":"x"}{"a":1}'),
                       ("truncated", '{"access_token":"x"'),
                       ("single-quotes", "{'access_token':'x'}"),
                       ("comment", '{"access_token":"x"/* c */}'),
                       ("trailing-comma", '{"access_token":"x",}'),
                       ("nan", '{"access_token":"x","n":NaN}'),
                       ("bom", '\ufeff{"access_token":"x"}'),
                       ("bad-utf8", b'{"access_token":"x","d":"\xc3\x28"}'),
                       ("overlong-utf8", b'{"access_token":"x","d":"\xc0\xaf"}'),
                       ("lone-surrogate", '{"access_token":"x","d":"\\ud800"}'),
                       ("raw-control", '{"access_token":"x","d":"a\tb\x01"}'),
                       ("dup-keys", '{"access_token":"a","access_token":"b"}'),
                       ("depth-15", '{"access_token":"x","n":' + "[" * 14 + "]" * 14 + "}"),
                       ("depth-16", '{"access_token":"x","n":' + "[" * 15 + "]" * 15 + "}"),
                       ("depth-17", '{"access_token":"x","n":' + "[" * 16 + "]" * 16 + "}"),
                       ("depth-top-40", "[" * 40 + "]" * 40),
                       ("deep-objects", '{"access_token":"x","a":' + '{"a":' * 20 + "1" + "}" * 21)]:
        s["json-" + name] = response(200, body)
    # Error bodies: every field shape.
    s["err-description-long"] = response(400, {"error": "invalid_grant",
                                               "error_description": "Invalid user credentials " + "E" * 3000})
    s["err-code-long"] = response(400, {"error": "x" * 300})
    s["err-codes-many"] = response(400, {"error": "invalid_grant",
                                         "error_description": "AADSTS50126: Error validating credentials",
                                         "error_codes": [50126, "x", 1.5, -3, 9223372036854775807,
                                                         -9223372036854775808, 50034, 50076, 50079,
                                                         50053, 50057, 50055]})
    s["err-codes-not-array"] = response(400, {"error": "invalid_grant", "error_codes": 50126})
    s["err-types"] = response(400, {"error": 1, "error_description": ["x"], "status": {"type": None}})
    s["err-nul-in-description"] = response(400, '{"error":"invalid_grant","error_description":"Account\\u0000 disabled"}')
    s["err-leading-space"] = response(400, {"error": "x", "error_description": " \r\n\tUser is locked"})
    s["err-case"] = response(400, {"error": "INVALID_GRANT", "error_description": "user IS LOCKED"})
    s["err-anywhere"] = response(400, {"error": "x", "error_description": "Please use Multi-Factor Authentication"})
    s["err-client-auth-failed"] = response(401, {"error": "invalid_client",
                                                 "error_description": "Client authentication failed"})
    s["err-error-map-locked"] = response(400, {"error": "invalid_grant",
                                               "error_description": "Too many failed attempts, try later"})
    s["err-error-map-code"] = response(400, {"error": "invalid_grant", "error_description": "x",
                                             "error_codes": [50158]})
    s["err-error-map-aadsts"] = response(400, {"error": "interaction_required",
                                               "error_description": "AADSTS50158: External security challenge not satisfied."})
    s["err-error-map-okta-429-as-400"] = response(400, {"errorCode": "E0000047", "error": "E0000047"})
    s["err-teapot-no-settings"] = response(418, {"error": "teapot"}, settings=False)
    s["err-200-with-error"] = response(200, {"error": "invalid_grant",
                                             "error_description": "Invalid user credentials"})
    s["err-200-with-unknown-error"] = response(200, {"error": "something_else"})
    s["err-200-onelogin-mfa"] = response(200, {"status": {"type": "success", "code": 200, "error": False,
                                                          "message": "MFA is required for this user"}})
    s["err-401-html"] = response(401, "<html><body>401 Authorization Required</body></html>")
    s["err-403-empty"] = response(403, "")
    s["err-401-json-empty-object"] = response(401, "{}")
    s["err-400-empty"] = response(400, "")
    s["keycloak-invalid-no-settings"] = response(401, {"error": "invalid_grant",
                                                       "error_description": "Invalid user credentials"},
                                                 settings=False)
    s["okta-mfa-required"] = response(403, {"error": "mfa_required",
                                            "error_description": "An MFA challenge is required.",
                                            "mfa_token": "ftMfa"})
    # Statuses and transport results.
    ok = {"access_token": tok, "token_type": "Bearer"}
    for st in (0, 199, 201, 299, 399, 404, 499, 599, 999):
        s["status-%03d" % st] = response(st, ok if st < 400 else {"error": "invalid_grant"})
    for net in ("connect", "timeout", "tls", "too_big", "error"):
        s["net-" + net] = response(200, ok, net=net)
    s["net-error-no-settings"] = response(401, "", net="error", settings=False)
    # Raw (non-digit) status headers: odd byte 0 -> int16 of bytes 1-2.
    s["raw-status-negative"] = b"\x01\xff\x38\x30" + json.dumps(ok).encode()
    s["raw-status-table"] = b"\x02\x03\x00\x30" + b'{"error":"access_denied"}'
    return s


# -- fuzz-config ------------------------------------------------------------------

CONFIG_MAX = 4096   # -max_len of fuzz-config


def config(text, *items):
    data = text.encode("utf-8") if isinstance(text, str) else text
    if items:
        data += b"\0" + b"\0".join(i.encode("utf-8") if isinstance(i, str) else i for i in items)
    return data


EP = "token_endpoint = https://idp.example.com/realms/example/protocol/openid-connect/token\n"

FULL = """# every key of options.c, in its order
token_endpoint = https://idp.example.com/oauth2/default/v1/token
client_id = linux-pam
client_secret = s3cret-Client-42
client_auth = basic
scope = openid profile email
resource = https://api.example.com
extra_param = audience=https://api.example.com
extra_param = acr_values=urn:mace:incommon:iap:silver
username_format = %u@example.com
require_local_user = yes
timeout = 10
connect_timeout = 3
ca_file = /etc/ssl/certs/ca-certificates.crt
ca_path = /etc/ssl/certs
pinned_public_key = sha256//YhKJKSzoTt2b5FP18fvpHo7fJYqQCjAa3HWY3tvRMwE=
proxy = http://proxy.example.com:3128
export_token = yes
env_prefix = OAUTH2_
export_id_token = no
export_refresh_token = no
error_map = locked:too many failed attempts
error_map = mfa_required:AADSTS50158
error_map = access_denied:not assigned to this application
debug = no
use_first_pass = no
try_first_pass = no
"""


def config_seeds():
    s = {}
    with open(os.path.join(TOP, "pam.d-examples", "pam_ropc.conf"), encoding="utf-8") as f:
        example = f.read()
    if len(example.encode()) <= CONFIG_MAX:
        s["example-conf"] = config(example)
    else:
        # Keep the key lines and a few comments; the fuzzer's max_len is small.
        lines = [l for l in example.splitlines(True) if l.strip() and
                 (not l.startswith("#") or "=" in l)]
        s["example-conf-keys"] = config("".join(lines)[:CONFIG_MAX])
    s["minimal"] = config(EP)
    s["full"] = config(FULL)
    s["full-mode-644"] = config(FULL, "@mode=644")               # secret in a readable file
    s["full-crlf"] = config(FULL.replace("\n", "\r\n"))
    s["secret-file"] = config(EP + "client_id = pam\nclient_secret_file = @DIR@/secret\n",
                              "@secret=Zm9vYmFy-Secret-77\n", "@mode=644")
    s["secret-file-crlf"] = config(EP + "client_id=pam\nclient_secret_file=@DIR@/secret\nclient_auth=post\n",
                                   "@secret=s3cr3t-Value-123\r\n")
    s["secret-file-readable"] = config(EP + "client_id=pam\nclient_secret_file=@DIR@/secret\n",
                                       "@secret=s3cr3t-Value-123\n", "@smode=640")
    s["secret-file-two-lines"] = config(EP + "client_id=pam\nclient_secret_file=@DIR@/secret\n",
                                        "@secret=line1\nline2\n")
    s["secret-file-empty"] = config(EP + "client_id=pam\nclient_secret_file=@DIR@/secret\n", "@secret=")
    s["secret-file-missing"] = config(EP + "client_secret_file=@DIR@/nosuch\n")
    s["secret-file-dir"] = config(EP + "client_id=x\nclient_secret_file=@DIR@\n")
    s["ca-path-dir"] = config(EP + "ca_path = @DIR@\nca_file = @DIR@/pam_ropc.conf\n"
                              "pinned_public_key = @DIR@/nosuch.der\n")
    s["secret-both"] = config(EP + "client_secret=abc\nclient_secret_file=@DIR@/secret\n",
                              "@secret=def\n")
    s["keycloak"] = config("token_endpoint = https://sso.example.org/realms/corp/protocol/openid-connect/token\n"
                           "client_id = linux-pam\nclient_secret = 9f8e7d6c5b4a\nscope = openid\n")
    s["entra"] = config("token_endpoint = https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/oauth2/v2.0/token\n"
                        "client_id = 4a7c2d1e-5f3b-4c8a-9e6d-0b1f2a3c4d5e\nclient_secret = Abc8Q~verysecret\n"
                        "client_auth = post\nscope = openid profile offline_access\n"
                        "username_format = %u@contoso.onmicrosoft.com\nerror_map = mfa_required:AADSTS50158\n")
    s["okta"] = config("token_endpoint = https://dev-123456.okta.com/oauth2/default/v1/token\n"
                       "client_id = 0oa1b2c3d4e5f6g7h8i9\nclient_auth = none\nscope = openid\n"
                       "extra_param = acr_values=urn:okta:loa:1fa:pwd\n")
    s["onelogin"] = config("token_endpoint = https://example.onelogin.com/oidc/2/token\n"
                           "client_id = 0123abcd-4567-89ef\nclient_secret = onelogin-Secret-9\n"
                           "scope =\nexport_id_token = yes\nexport_refresh_token = true\n")
    s["glewlwyd"] = config("token_endpoint = https://127.0.0.1:4593/api/oidc/token\n"
                           "client_id = client1\nclient_auth = client_secret_basic\nclient_secret = password\n"
                           "ca_file = /etc/glewlwyd/ca.pem\nrequire_local_user = off\n")
    s["comments-blank"] = config("# comment\n\n   \t\n   # indented comment\n" + EP +
                                 "  timeout   =   20  \n\tconnect_timeout=30\n")
    # Things that must be refused.
    for name, text in [
            ("http-endpoint", "token_endpoint = http://idp.example.com/token\n"),
            ("endpoint-no-host", "token_endpoint = https:///token\n"),
            ("endpoint-space", "token_endpoint = https://idp example/token\n"),
            ("no-endpoint", "client_id = x\n"),
            ("dup-key", EP + EP),
            ("unknown-key", EP + "tokenendpoint = https://x\nTIMEOUT = 5\n"),
            ("no-equals", EP + "debug\n"),
            ("empty-key", EP + "= value\n"),
            ("timeout-0", EP + "timeout = 0\n"),
            ("timeout-301", EP + "timeout = 301\n"),
            ("timeout-words", EP + "timeout = 5 # seconds\n"),
            ("timeout-huge", EP + "timeout = 99999999999999999999999\n"),
            ("timeout-neg", EP + "connect_timeout = -1\n"),
            ("connect-longer", EP + "timeout = 5\nconnect_timeout = 60\n"),
            ("bool-bad", EP + "export_token = maybe\n"),
            ("debug-bad", EP + "debug = maybe\n"),
            ("client-auth-bad", EP + "client_auth = tls\n"),
            ("basic-no-secret", EP + "client_auth = basic\nclient_id = x\n"),
            ("post-no-id", EP + "client_auth = post\nclient_secret = abc\n"),
            ("none-with-secret", EP + "client_auth = none\nclient_secret = abcdefgh12\n"),
            ("client-id-space", EP + "client_id = a b\n"),
            ("scope-quote", EP + 'scope = openid "x"\n'),
            ("env-prefix-digit", EP + "env_prefix = 1BAD\n"),
            ("env-prefix-long", EP + "env_prefix = " + "A" * 65 + "\n"),
            ("env-prefix-dash", EP + "env_prefix = A-B\n"),
            ("username-format-bad", EP + "username_format = %x%u\n"),
            ("username-format-no-u", EP + "username_format = user%%\n"),
            ("username-format-trailing", EP + "username_format = %u%\n"),
            ("extra-param-reserved", EP + "extra_param = password=x\n"),
            ("extra-param-no-eq", EP + "extra_param = audience\n"),
            ("extra-param-bad-name", EP + "extra_param = a b=c\n"),
            ("extra-params-33", EP + "".join("extra_param = p%d=v\n" % i for i in range(33))),
            ("error-map-success", EP + "error_map = success:Welcome\n"),
            ("error-map-unknown", EP + "error_map = bogus:x\n"),
            ("error-map-internal", EP + "error_map = internal_error:x\n"),
            ("error-map-no-text", EP + "error_map = locked:\n"),
            ("error-map-all", EP + "".join("error_map = %s:text %d\n" % (o, i) for i, o in enumerate(
                ["invalid_credentials", "idp_unknown_user", "mfa_required", "locked", "suspended",
                 "password_expired", "access_denied", "misconfigured", "unavailable", "unrecognised",
                 "LOCKED"]))),
            ("error-maps-33", EP + "".join("error_map = locked:t%d\n" % i for i in range(33))),
            ("config-in-file", EP + "config = /etc/other.conf\n"),
            ("proxy-socks", EP + "proxy = socks5://127.0.0.1:1080\n"),
            ("pin-relative", EP + "pinned_public_key = pin.der\n"),
            ("ca-relative", EP + "ca_file = ca.pem\n"),
            ("value-too-long", EP + "scope = " + "s" * 2049 + "\n"),
            ("control-char", EP + "extra_param = a=b\x01c\n"),
            ("non-ascii", EP + "client_id = caf\u00e9\n"),
            ("both-first-pass", EP + "use_first_pass = yes\ntry_first_pass = yes\n")]:
        s["bad-" + name] = config(text)
    s["bad-mode-664"] = config(EP, "@mode=664")
    s["bad-owner"] = config(EP, "@owner")
    s["bad-nul"] = config(EP, "@nul")
    s["bad-noconfig"] = config("", "@noconfig")
    s["bad-symlink"] = config(EP, "@symlink")
    s["bad-big"] = config(EP, "@big")
    s["bad-secret-big"] = config(EP + "client_id=x\nclient_secret_file=@DIR@/secret\n",
                                 "@secret=abc", "@bigsecret")
    s["args-config-last"] = config(EP, "debug", "config=relative.conf", "@config-last")
    s["args-error-map-blank"] = config(EP, "error_map=locked: \t ")
    s["bad-secret-owner"] = config(EP + "client_id=x\nclient_secret_file=@DIR@/secret\n",
                                   "@secret=abc", "@owner")
    # pam.d arguments.
    s["args-only"] = config("", "token_endpoint=https://idp.example.com/token", "debug",
                            "use_first_pass", "timeout=5", "connect_timeout=2")
    s["args-override"] = config(EP + "timeout = 10\n", "timeout=20", "env_prefix=IDP_",
                                "export_token=no", "require_local_user=no")
    s["args-secret-refused"] = config(EP, "client_secret=s3cr3t-Arg-99")
    s["args-secret-bare"] = config(EP, "client_secret")
    s["args-dup"] = config(EP, "timeout=5", "timeout=6")
    s["args-config-relative"] = config(EP, "config=relative.conf")
    s["args-config-other"] = config(EP, "config=/nonexistent/pam_ropc.conf")
    s["args-config-dir"] = config(EP, "config=@DIR@")
    s["args-unknown"] = config(EP, "nosuchoption", "=x", "", "debug=maybe")
    s["args-debug-no"] = config(EP, "debug=no", "try_first_pass")
    s["args-error-map"] = config(EP, "error_map=locked:Too many attempts",
                                 "extra_param=prompt=none")
    s["args-eight"] = config(EP, "debug", "timeout=9", "scope=openid", "client_id=pam",
                             "env_prefix=X_", "export_id_token=1", "export_refresh_token=on")
    return s


# -- fuzz-sanitize, fuzz-form -------------------------------------------------------

def sanitize_seeds():
    s = {}
    texts = {
        "plain": b"alice",
        "quotes": b'say "hi" \\ bye',
        "injection": b'x" user="root\nJan  1 00:00:00 host sshd[1]: Accepted password for root',
        "ansi": b"\x1b[31mRED\x1b[0m\r\n\t\x07\x00\x7f",
        "utf8": "gr\u00fc\u00df \u6f22\u5b57 \U0001f600".encode("utf-8"),
        "high": bytes(range(0x80, 0x100)),
        "all": bytes(range(256)),
        "ellipsis": b"abc...",
    }
    for name, text in texts.items():
        for size in (0, 1, 3, 4, 5, 8, 20, 128, 300):
            s["%s-%03d" % (name, size)] = bytes([size >> 8, size & 0xff]) + text
    s["null-input"] = b"\xff\x00" + b"ignored"
    s["long"] = b"\x01\x2c" + b"A" * 600 + b'"' * 10
    return s


def form_seeds():
    def form(cap, *parts):
        return bytes([cap]) + b"\0".join(p.encode("utf-8") if isinstance(p, str) else p
                                         for p in parts)
    s = {}
    s["user-password-format"] = form(0, "alice", "correct horse", "%u@example.com")
    s["password-specials"] = form(0, "bob", "p&ss=w0rd+%20;/?#[]@!$'()*,~", "%u")
    s["utf8-user"] = form(0, "j\u00fcrgen", "\u00fc\u00f1\u00ef\u00e7\u00f8d\u00e9 \U0001f511", "DOMAIN\\%u")
    s["bad-utf8"] = form(0, b"\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80", b"\xff\xfe", b"%%%u%")
    s["utf8-edges"] = form(0, b"\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf",
                           b"\xe0\x9f\xbf\xed\x9f\xbf\xee\x80\x80", b"%u")
    s["control-user"] = form(0, "ali\tce", "\b\n\r\x7fINCORRECT", "%u%%")
    s["sshd-junk"] = form(0, "root", "\b\n\r\x7fINCORRECT", "%u")
    s["sshd-junk-short"] = form(0, "root", "\b\n\r", "%u")
    s["sshd-junk-long"] = form(0, "root", "\b\n\r\x7fINCORRECT\b\n\r\x7fINC", "%u")
    s["long-user"] = form(0, "u" * 257, "p" * 600, "%u" * 5)
    s["max-user"] = form(0, "u" * 256, "", "")
    s["empty"] = form(0)
    s["small-cap"] = form(0x80 | 4, "alice", "correct horse battery staple", "%u")
    s["zero-cap"] = form(0x80, "a", "b", "c")
    s["all-bytes"] = form(0x80 | 0x7f, bytes(range(1, 256)), "x", "%u%")
    return s


# -- writing -------------------------------------------------------------------------

def main():
    check = "--check" in sys.argv[1:]
    seeds = {
        "fuzz-response": {**scenario_seeds(), **onelogin_seeds(), **hand_seeds()},
        "fuzz-config": config_seeds(),
        "fuzz-sanitize": sanitize_seeds(),
        "fuzz-form": form_seeds(),
    }
    limits = {"fuzz-response": RESPONSE_MAX, "fuzz-config": CONFIG_MAX,
              "fuzz-sanitize": 1024, "fuzz-form": 2048}
    bad = 0
    total = 0
    for target, files in seeds.items():
        d = os.path.join(HERE, "corpus", target)
        assert len(files) < 200, (target, len(files))
        if not check:
            os.makedirs(d, exist_ok=True)
        existing = set(os.listdir(d)) if os.path.isdir(d) else set()
        for name, data in sorted(files.items()):
            assert len(data) <= limits[target], (target, name, len(data))
            total += len(data)
            path = os.path.join(d, name)
            if check:
                try:
                    with open(path, "rb") as f:
                        same = f.read() == data
                except OSError:
                    same = False
                if not same:
                    print("differs or missing: %s/%s" % (target, name))
                    bad += 1
            else:
                with open(path, "wb") as f:
                    f.write(data)
            existing.discard(name)
        for name in sorted(existing):
            print("%s: %s/%s" % ("extra" if check else "removing stale", target, name))
            if check:
                bad += 1
            else:
                os.unlink(os.path.join(d, name))
        print("%s: %d seeds" % (target, len(files)))
    print("total %d bytes" % total)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
