#!/usr/bin/env python3
"""Glewlwyd tests: the built module against a real OAuth2/OIDC IdP.

tests/idp/glewlwyd.sh starts Glewlwyd (Debian package) on 127.0.0.1 over
HTTPS with a CA made for the run, and creates a confidential client and
four users: alice (groups staff,ssh-users), bob (staff only), a disabled
one, and one with a password full of special characters.  Each case logs
in through the real libpam under pam_wrapper and checks the PAM code, the
log line, and, for a success, that the token in the PAM environment is
the one Glewlwyd issued to that user (asked of Glewlwyd's introspection
endpoint).

The OpenID Connect cases use issuer= only (discovery names the token
endpoint, the JWKS and the introspection endpoint) and check each
token_check against what Glewlwyd 2.7.5 really emits: an RS256 id_token
(aud = client_id, groups a JSON array, preferred_username), an RS256 JWT
access token (aud = the scope, "openid"; groups ONE comma-separated
string) and introspection (username, sub, scope; no groups).

The device cases (flow=device, RFC 8628) play the person: pamdrive writes
every prompt to a file at once (--echo-prompts); the test reads the user
code from the prompt text while the module waits and approves it the way
Glewlwyd's login web app does, through Glewlwyd's own user API: a session
for the user (POST /api/auth/ with the password; cookie), the consent (PUT
/api/auth/grant/<client_id>) and the device verification endpoint (GET
/api/oidc/device?code=<user code>&g_continue), which answers with a redirect
to the login page saying prompt=deviceComplete.  Output: TAP.
"""

import base64
import http.cookiejar
import json
import os
import re
import ssl
import stat
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from ropctest import PAM, TOP, Pam, Tap, Workdir, wait_for  # noqa: E402

GLEWLWYD = os.path.join(TOP, "tests", "idp", "glewlwyd.sh")


def introspect(gdir, token):
    p = subprocess.run([GLEWLWYD, "introspect", gdir, "-"], input=token.encode(),
                       capture_output=True, timeout=30)
    try:
        return json.loads(p.stdout.decode())
    except ValueError:
        return {"error": p.stdout.decode() + p.stderr.decode()}


def jwt_part(token, i):
    """Part i (0 header, 1 payload) of a compact JWS, decoded; {} if not one."""
    try:
        part = token.split(".")[i]
        return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (IndexError, ValueError):
        return {}


def tokens_granted(gdir, user):
    """How many access tokens Glewlwyd's own log says it granted to user
    (one INFO line per successful password grant)."""
    mark = "Access token generated for client "
    want = "granted by user '%s' " % user
    try:
        with open(os.path.join(gdir, "glewlwyd.log"), errors="replace") as f:
            return sum(1 for l in f if mark in l and want in l)
    except OSError:
        return -1


HTTP_RE = re.compile(r"^http: (GET|POST) (\S+) ")


def http_requests(r):
    """The requests the module says it made (its debug lines, debug=yes)."""
    return sorted((m.group(1), m.group(2)) for m in (HTTP_RE.match(x) for _, x in r.logs)
                  if m)


def oidc_cases(t, g, gdir, w, pam, no_leak):
    """OpenID Connect: discovery, the three token checks, the claim rules."""
    alice, bob = g["DEMO_USER"], g["OTHER_USER"]
    pw = {alice: g["DEMO_PASSWORD"], bob: g["OTHER_PASSWORD"]}
    cache = os.path.join(w.path, "cache")       # the module creates it (0700)

    def oidc(**opts):
        """A service with issuer= and no token_endpoint; opts in order."""
        kv = [("issuer", g["ISSUER"]), ("ca_file", g["CA_FILE"]),
              ("client_id", g["CLIENT_ID"]), ("client_secret", g["CLIENT_SECRET"]),
              ("scope", g["SCOPE"]), ("require_local_user", "no"), ("timeout", "10"),
              ("cache_dir", opts.pop("cache_dir", cache))] + list(opts.items())
        conf = pam.config("# Glewlwyd on loopback, OpenID Connect\n" +
                          "".join("%s = %s\n" % x for x in kv), mode=0o600)
        return pam.service(["auth required MODULE config=" + conf,
                            "account required MODULE config=" + conf])

    def login(svc, user=alice, password=None, args=()):
        if password is None:
            password = pw[user]
        r = pam.run(svc, user, [password], list(args))
        no_leak(r, password, g["CLIENT_SECRET"], r.env.get("OAUTH2_ACCESS_TOKEN"),
                r.env.get("OAUTH2_ID_TOKEN"), r.env.get("OAUTH2_REFRESH_TOKEN"))
        return r

    def expect(r, code, outcome, name, message=None):
        ok = t.eq(r.auth, PAM[code], "%s: %s" % (name, code))
        ok = t.eq(r.field("outcome"), outcome, "%s: log says outcome=%s" % (name, outcome)) \
            and ok
        if not ok:
            t.diag("log line: " + r.auth_line())
        if message is not None:
            t.eq(r.shown("error"), [message], "%s: person is shown %r" % (name, message))
        if code != "PAM_SUCCESS":
            t.eq(r.env, {}, "%s: nothing in the PAM environment" % name)
        return ok

    def issued_sub(r, user):
        """The sub Glewlwyd's introspection gives for the exported access
        token, when it is user's (else None)."""
        tok = r.env.get("OAUTH2_ACCESS_TOKEN", "")
        info = introspect(gdir, tok) if tok else {}
        if info.get("active") is True and info.get("username") == user:
            return info.get("sub")
        return None

    # Discovery alone: issuer=, no token_endpoint, no token check.
    r = login(oidc(token_check="none"), args=["--acct"])
    expect(r, "PAM_SUCCESS", "success", "discovery (issuer only, token_check=none)")
    t.eq(r.data.get("acct"), 0, "discovery: account management agrees")
    t.ok(issued_sub(r, alice) is not None,
         "discovery: the token in the PAM environment is the one Glewlwyd issued to alice",
         r.env)
    t.ok("OAUTH2_SUB" not in r.env, "token_check=none: no OAUTH2_SUB (nothing verified)",
         r.env)
    st = os.lstat(cache) if os.path.lexists(cache) else None
    t.ok(st is not None and stat.S_ISDIR(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o700,
         "cache_dir made by the module, mode 0700",
         st and oct(stat.S_IMODE(st.st_mode)))

    # token_check=id_token (the default with issuer): Glewlwyd's RS256 id_token.
    r = login(oidc(token_check="id_token", export_id_token="yes"))
    expect(r, "PAM_SUCCESS", "success", "token_check=id_token")
    idt = r.env.get("OAUTH2_ID_TOKEN", "")
    t.eq((jwt_part(idt, 0).get("alg"), jwt_part(idt, 1).get("aud")), ("RS256", g["CLIENT_ID"]),
         "id_token: Glewlwyd signs it RS256, aud is the client_id")
    sub = issued_sub(r, alice)
    t.ok(sub and r.env.get("OAUTH2_SUB") == sub == jwt_part(idt, 1).get("sub"),
         "id_token: OAUTH2_SUB is alice's sub (as Glewlwyd's introspection says)",
         {"env": r.env.get("OAUTH2_SUB"), "introspection": sub})
    alice_sub = sub
    r = login(oidc(), args=["--acct"])
    expect(r, "PAM_SUCCESS", "success", "issuer without token_check: id_token by default")
    t.eq((r.env.get("OAUTH2_SUB"), r.data.get("acct")), (alice_sub, 0),
         "default token_check: OAUTH2_SUB set, account management agrees")

    # token_check=jwt: the access token is an RS256 JWT whose aud is the scope.
    r = login(oidc(token_check="jwt", audience="openid"))
    expect(r, "PAM_SUCCESS", "success", "token_check=jwt audience=openid")
    at = r.env.get("OAUTH2_ACCESS_TOKEN", "")
    t.eq((jwt_part(at, 0).get("alg"), jwt_part(at, 1).get("aud")), ("RS256", "openid"),
         "Glewlwyd's access token: RS256, aud is the scope (openid)")
    t.ok(alice_sub and r.env.get("OAUTH2_SUB") == issued_sub(r, alice) == alice_sub,
         "jwt: OAUTH2_SUB is alice's sub", r.env.get("OAUTH2_SUB"))
    r = login(oidc(token_check="jwt"))
    expect(r, "PAM_AUTH_ERR", "token_invalid",
           "token_check=jwt, audience defaulting to client_id (Glewlwyd's aud is openid)")
    r = login(oidc(token_check="jwt", audience="openid", username_claim="preferred_username"))
    expect(r, "PAM_SUCCESS", "success", "jwt: username_claim=preferred_username")

    # token_check=introspection: Glewlwyd's introspection returns username.
    r = login(oidc(token_check="introspection", username_claim="username"))
    expect(r, "PAM_SUCCESS", "success", "token_check=introspection username_claim=username")
    t.ok(alice_sub and r.env.get("OAUTH2_SUB") == alice_sub,
         "introspection: OAUTH2_SUB is alice's sub", r.env.get("OAUTH2_SUB"))

    # userinfo=yes: Glewlwyd's userinfo names the same sub.
    r = login(oidc(userinfo="yes"))
    expect(r, "PAM_SUCCESS", "success", "userinfo=yes: userinfo's sub is the id_token's")

    # username_claim: the claim must be the name sent to Glewlwyd.
    r = login(oidc(username_claim="preferred_username"))
    expect(r, "PAM_SUCCESS", "success", "username_claim=preferred_username")
    r = login(oidc(username_claim="preferred_username", username_format="%u@x"))
    expect(r, "PAM_AUTH_ERR", "invalid_credentials",
           "username_format=%u@x: Glewlwyd has no user alice@x (403), so no claim is checked")
    # Glewlwyd finds its users case-insensitively and puts the stored name
    # into preferred_username: "ALICE" gets a token saying "alice".
    r = login(oidc(username_claim="preferred_username"), user=alice.upper(),
              password=pw[alice])
    expect(r, "PAM_PERM_DENIED", "identity_mismatch",
           "%s (Glewlwyd accepts it, preferred_username=%s)" % (alice.upper(), alice),
           message="the identity provider vouched for a different account")
    r = login(oidc(username_claim="preferred_username", username_claim_case="insensitive"),
              user=alice.upper(), password=pw[alice])
    expect(r, "PAM_SUCCESS", "success", "username_claim_case=insensitive: %s" % alice.upper())

    # allowed_groups: from the id_token's groups (a JSON array) and from the
    # JWT access token's (Glewlwyd joins the values with commas).
    for what, extra in (("id_token", {}), ("jwt", {"token_check": "jwt", "audience": "openid"})):
        svc = oidc(allowed_groups="ssh-users", **extra)
        r = login(svc, alice)
        expect(r, "PAM_SUCCESS", "success", "%s allowed_groups=ssh-users: alice" % what)
        r = login(svc, bob)
        expect(r, "PAM_PERM_DENIED", "not_authorized",
               "%s allowed_groups=ssh-users: bob (staff only)" % what,
               message="not allowed to use this service")
    r = login(oidc(), bob, args=["--acct"])
    expect(r, "PAM_SUCCESS", "success", "a service without allowed_groups: bob")
    t.eq(r.data.get("acct"), 0, "bob, no group rule: account management agrees")
    t.ok(r.env.get("OAUTH2_SUB") and r.env.get("OAUTH2_SUB") == issued_sub(r, bob) and
         r.env.get("OAUTH2_SUB") != alice_sub, "bob's OAUTH2_SUB is bob's", r.env)

    # require_scope: Glewlwyd grants openid.
    r = login(oidc(require_scope="openid"))
    expect(r, "PAM_SUCCESS", "success", "require_scope=openid")
    r = login(oidc(require_scope="nosuchscope"))
    expect(r, "PAM_PERM_DENIED", "not_authorized", "require_scope=nosuchscope",
           message="not allowed to use this service")

    # export_claims: arrays as JSON text, strings as they are.
    r = login(oidc(export_claims="groups,preferred_username"))
    t.eq((r.env.get("OAUTH2_CLAIM_GROUPS"), r.env.get("OAUTH2_CLAIM_PREFERRED_USERNAME")),
         ('["staff","ssh-users"]', alice),
         "id_token export_claims=groups,preferred_username: OAUTH2_CLAIM_*")
    r = login(oidc(token_check="jwt", audience="openid", export_claims="groups"))
    t.eq(r.env.get("OAUTH2_CLAIM_GROUPS"), "staff,ssh-users",
         "jwt export_claims=groups: Glewlwyd's comma-joined string")

    # Requests per login, fresh cache: discovery + JWKS + token, then only
    # the token.  Glewlwyd logs no line for discovery or the JWKS (not even
    # at DEBUG), only each token it grants; so the token requests are
    # counted in Glewlwyd's log and the full list is the module's own debug
    # lines ("http: METHOD URL ...").
    svc = oidc(cache_dir=os.path.join(w.path, "cache-count"), debug="yes")
    want = [[("GET", g["DISCOVERY_URL"]), ("GET", g["JWKS_URI"]), ("POST", g["TOKEN_ENDPOINT"])],
            [("POST", g["TOKEN_ENDPOINT"])]]
    for n, which in enumerate(("first", "next")):
        before = tokens_granted(gdir, alice)
        r = login(svc)
        expect(r, "PAM_SUCCESS", "success", "%s login into an empty cache_dir" % which
               if n == 0 else "%s login, same cache_dir" % which)
        try:
            wait_for(lambda: tokens_granted(gdir, alice) > before, 5, "Glewlwyd's log")
        except RuntimeError:
            pass
        t.eq(tokens_granted(gdir, alice) - before, 1,
             "%s login: Glewlwyd's log shows one token granted to alice" % which)
        t.eq(http_requests(r), sorted(want[n]),
             "%s login: the module asked %s (its debug lines)"
             % (which, " + ".join(u.rsplit("/", 1)[-1] for _, u in want[n])))
        if n == 0:
            time.sleep(1.1)     # a refetch would show in the cache files' times
            snap = cache_snapshot(os.path.join(w.path, "cache-count"))
    t.eq(cache_snapshot(os.path.join(w.path, "cache-count")), snap,
         "next login: the cached discovery and JWKS files were left as they were")
    t.eq(sorted(k.split("/")[0] for k in snap), ["discovery", "jwks"],
         "the cache holds one discovery document and one key set")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    """Keep a 30x as the answer: the test reads its Location."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class GlewlwydUser:
    """One person at Glewlwyd's user-facing API (what its login web app
    calls): a cookie session made with the user's password."""

    def __init__(self, g, user, password):
        self.g = g
        self.user = user
        self.password = password
        ctx = ssl.create_default_context(cafile=g["CA_FILE"])
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=ctx),
                                                  urllib.request.HTTPCookieProcessor(self.jar),
                                                  NoRedirect())

    def call(self, method, path, doc=None):
        """-> (HTTP status, headers, body text)."""
        data = json.dumps(doc).encode() if doc is not None else None
        req = urllib.request.Request(self.g["GLEWLWYD_URL"] + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with self.opener.open(req, timeout=10) as resp:
                return resp.status, resp.headers, resp.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read().decode("utf-8", "replace")

    def approve(self, user_code):
        """Log in, consent to the client's scope, verify the user code.
        -> (ok, what happened) with ok true when Glewlwyd says
        prompt=deviceComplete."""
        steps = []
        st, _, body = self.call("POST", "/api/auth/", {"username": self.user,
                                                      "password": self.password})
        steps.append(("POST /api/auth/", st))
        if st != 200:
            return False, steps
        st, _, body = self.call("PUT", "/api/auth/grant/" + self.g["CLIENT_ID"],
                                {"scope": self.g["SCOPE"]})
        steps.append(("PUT /api/auth/grant/" + self.g["CLIENT_ID"], st))
        if st != 200:
            return False, steps
        st, hdrs, _ = self.call("GET", "/api/oidc/device?%s&g_continue"
                                % urllib.parse.urlencode({"code": user_code}))
        loc = (hdrs.get("Location") if hdrs is not None else None) or ""
        prompt = urllib.parse.parse_qs(urllib.parse.urlsplit(loc).query).get("prompt", [None])
        steps.append(("GET /api/oidc/device?code=...&g_continue", st, "prompt=%s" % prompt[0]))
        return st == 302 and prompt[0] == "deviceComplete", steps


def device_cases(t, g, gdir, w, pam, no_leak):
    """flow=device against Glewlwyd's device authorization grant."""
    alice, bob = g["DEMO_USER"], g["OTHER_USER"]
    interval = int(g["DEVICE_INTERVAL"])
    n = [0]

    def service(**opts):
        n[0] += 1
        kv = [("issuer", g["ISSUER"]), ("ca_file", g["CA_FILE"]),
              ("client_id", g["CLIENT_ID"]), ("client_secret", g["CLIENT_SECRET"]),
              ("scope", g["SCOPE"]), ("require_local_user", "no"), ("timeout", "10"),
              ("token_check", "id_token"), ("flow", "device"),
              ("username_claim", "preferred_username"),
              ("cache_dir", os.path.join(w.path, "cache-device-%d" % n[0]))] + \
            list(opts.items())
        conf = pam.config("# Glewlwyd on loopback, device flow\n" +
                          "".join("%s = %s\n" % x for x in kv), mode=0o600)
        return pam.service(["auth required MODULE config=" + conf,
                            "account required MODULE config=" + conf])

    def run(svc, approver=None, delay=0.0, user=alice):
        """One device login of user.  approver (a GlewlwydUser) approves
        the user code read from the prompt, delay s after the prompt."""
        echo = os.path.join(w.path, "echo-%d" % time.monotonic_ns())
        done = threading.Event()
        seen = {}

        def watch():
            end = time.monotonic() + 90
            while time.monotonic() < end and not done.is_set():
                try:
                    with open(echo, errors="replace") as f:
                        text = f.read()
                except OSError:
                    text = ""
                m = re.search(r"enter the code (\S+)", text)
                if m:
                    seen["code"] = m.group(1)
                    seen["prompt_at"] = time.monotonic()
                    m2 = re.search(r"To log in, open (\S+) ", text)
                    seen["uri"] = m2.group(1) if m2 else None
                    if approver is not None:
                        if done.wait(delay):
                            return
                        seen["approve_at"] = time.monotonic()
                        seen["approved"] = approver.approve(m.group(1))
                    return
                time.sleep(0.05)
        th = threading.Thread(target=watch, daemon=True)
        th.start()
        t0 = time.monotonic()
        # The one prompt ("... Press Enter after approving: ") is answered
        # with Enter; pamdrive reads its answers at start.
        r = pam.run(svc, user, [""], ["--echo-prompts", echo], timeout=120)
        r.took = time.monotonic() - t0
        done.set()
        th.join(15)
        r.seen = seen
        r.t0 = t0
        no_leak(r, g["CLIENT_SECRET"], r.env.get("OAUTH2_ACCESS_TOKEN"),
                r.env.get("OAUTH2_ID_TOKEN"))
        return r

    def polls(r):
        m = re.search(r"polls=(\d+) waited_ms=(\d+)", r.field("detail") or "")
        return (int(m.group(1)), int(m.group(2))) if m else (None, None)

    # Approved by alice, after the module's first poll (Glewlwyd answers
    # authorization_pending until then).
    before = tokens_granted(gdir, alice)
    r = run(service(), GlewlwydUser(g, alice, g["DEMO_PASSWORD"]), delay=interval + 1.5)
    prompts = [m["text"] for m in r.messages if m["style"].startswith("prompt")]
    t.eq(r.auth, PAM["PAM_SUCCESS"], "device flow, approved at Glewlwyd by alice: PAM_SUCCESS")
    t.eq(r.field("outcome"), "success", "device flow, alice: log says outcome=success")
    t.ok(len(prompts) == 1 and "Password" not in prompts[0] and
         prompts[0].endswith("Press Enter after approving: "),
         "flow=device: one prompt, no password; it ends in \"Press Enter after approving: \"",
         prompts)
    t.ok(r.seen.get("code") and re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", r.seen["code"]),
         "the prompt shows Glewlwyd's user code (XXXX-XXXX) while the module waits", r.seen)
    t.eq(r.seen.get("uri"), g["DEVICE_VERIFICATION_URI"],
         "the prompt names Glewlwyd's verification_uri (%s)" % g["DEVICE_VERIFICATION_URI"])
    ok, steps = r.seen.get("approved", (False, "never approved"))
    t.ok(ok, "alice approves the user code through Glewlwyd's user API (session, consent, "
         "/api/oidc/device?code=...&g_continue -> prompt=deviceComplete)", steps)
    np, waited = polls(r)
    t.ok(np is not None and np >= 2,
         "the module polled Glewlwyd's token endpoint while waiting (authorization_pending "
         "first, the token after the approval)", r.auth_line())
    tok = r.env.get("OAUTH2_ACCESS_TOKEN", "")
    info = introspect(gdir, tok) if tok else {}
    t.ok(info.get("active") is True and info.get("username") == alice,
         "device flow: the token in the PAM environment is the one Glewlwyd issued to alice "
         "(introspection)", {"introspection": info, "env": sorted(r.env)})
    t.ok(r.env.get("OAUTH2_SUB") and r.env.get("OAUTH2_SUB") == info.get("sub"),
         "device flow: OAUTH2_SUB is alice's sub", r.env.get("OAUTH2_SUB"))
    try:
        wait_for(lambda: tokens_granted(gdir, alice) > before, 5, "Glewlwyd's log")
    except RuntimeError:
        pass
    t.eq(tokens_granted(gdir, alice) - before, 1,
         "device flow: Glewlwyd's log shows one token granted to alice")
    t.diag("device flow, alice approved %.1f s after the prompt: login took %.1f s, %s polls, "
           "waited_ms=%s" % (r.seen.get("approve_at", 0) - r.seen.get("prompt_at", 0), r.took,
                              np, waited))
    t.diag("approval steps: %r" % (steps,))

    # Approved by bob: a token, but bob's.
    before = tokens_granted(gdir, bob)
    r = run(service(), GlewlwydUser(g, bob, g["OTHER_PASSWORD"]))
    ok, steps = r.seen.get("approved", (False, "never approved"))
    t.ok(ok, "bob approves alice's user code at Glewlwyd (prompt=deviceComplete)", steps)
    t.eq(r.auth, PAM["PAM_PERM_DENIED"], "device flow, approved by bob: PAM_PERM_DENIED")
    t.eq(r.field("outcome"), "identity_mismatch",
         "device flow, approved by bob: log says outcome=identity_mismatch")
    t.eq(r.shown("error"), ["the identity provider vouched for a different account"],
         "approved by bob: the person is told the IdP vouched for a different account")
    t.eq(r.env, {}, "approved by bob: nothing in the PAM environment")
    try:
        wait_for(lambda: tokens_granted(gdir, bob) > before, 5, "Glewlwyd's log")
    except RuntimeError:
        pass
    t.eq(tokens_granted(gdir, bob) - before, 1,
         "approved by bob: Glewlwyd did grant bob a token (which the module refused)")
    t.diag("device flow, approved by bob: %.1f s" % r.took)

    # Never approved, device_timeout=10.
    before = tokens_granted(gdir, alice)
    r = run(service(device_timeout="10"))
    t.ok(r.seen.get("code"), "never approved: the prompt showed a user code", r.seen)
    t.eq(r.auth, PAM["PAM_AUTH_ERR"], "device flow, never approved, device_timeout=10: "
         "PAM_AUTH_ERR")
    t.eq(r.field("outcome"), "mfa_failed", "never approved: log says outcome=mfa_failed")
    t.eq(r.shown("error"), ["multi-factor authentication failed"],
         "never approved: the person is shown \"multi-factor authentication failed\"")
    t.ok(r.took < 10 + 5, "never approved: the login ends within device_timeout + 5 s of its "
         "start (the device authorization request)", "took %.1f s" % r.took)
    t.ok("device_timeout" in (r.field("detail") or ""), "never approved: the detail names "
         "device_timeout", r.auth_line())
    np, waited = polls(r)
    t.ok(waited is not None and 10000 - 200 <= waited <= 10000 + 2000,
         "never approved: waited_ms is about 10000", r.auth_line())
    t.eq(tokens_granted(gdir, alice) - before, 0, "never approved: Glewlwyd granted no token")
    t.diag("device flow, never approved, device_timeout=10: %.1f s, %s polls" % (r.took, np))


def cache_snapshot(d):
    """{kind/name: (mode, mtime_ns, size)} of the cache's entries."""
    out = {}
    for kind in sorted(os.listdir(d)) if os.path.isdir(d) else ():
        sub = os.path.join(d, kind)
        for name in sorted(os.listdir(sub)) if os.path.isdir(sub) else ():
            st = os.lstat(os.path.join(sub, name))
            out[kind + "/" + name] = (oct(stat.S_IMODE(st.st_mode)), st.st_mtime_ns, st.st_size)
    return out


def main():
    t = Tap("glewlwyd")
    w = Workdir("ropc-glewlwyd-")
    gdir = os.path.join(w.path, "glewlwyd")
    started = False
    try:
        p = subprocess.run([GLEWLWYD, "start", gdir], capture_output=True, timeout=120)
        started = t.ok(p.returncode == 0, "Glewlwyd starts on loopback",
                       (p.stdout + p.stderr).decode(errors="replace")[-2000:])
        if not started:
            return t.done()
        with open(os.path.join(gdir, "env.json")) as f:
            g = json.load(f)
        t.ok(g["TOKEN_ENDPOINT"].startswith("https://127.0.0.1:"),
             "Glewlwyd token endpoint is on 127.0.0.1 over HTTPS", g["TOKEN_ENDPOINT"])
        pam = Pam(w.path)

        def service(client_auth="basic", secret=None):
            conf = pam.config(
                "# Glewlwyd on loopback\n"
                "token_endpoint = %s\nca_file = %s\nclient_id = %s\nclient_secret = %s\n"
                "client_auth = %s\nscope = %s\nrequire_local_user = no\ntimeout = 10\n"
                % (g["TOKEN_ENDPOINT"], g["CA_FILE"], g["CLIENT_ID"],
                   secret or g["CLIENT_SECRET"], client_auth, g["SCOPE"]), mode=0o600)
            return pam.service(["auth required MODULE config=" + conf,
                                "account required MODULE config=" + conf])

        def no_leak(r, *secrets):
            logs = r.log_text()
            t.ok(not [s for s in secrets if s and s in logs],
                 "no password, secret or token in the log lines")

        # The demo user logs in, with each client authentication method.
        for auth in ("basic", "post"):
            svc = service(auth)
            r = pam.run(svc, g["DEMO_USER"], [g["DEMO_PASSWORD"]], ["--acct"])
            t.eq(r.auth, PAM["PAM_SUCCESS"], "%s: %s logs in" % (auth, g["DEMO_USER"]))
            t.eq(r.field("outcome"), "success", "%s: log says outcome=success" % auth)
            t.eq(r.data.get("acct"), 0, "%s: account management agrees" % auth)
            tok = r.env.get("OAUTH2_ACCESS_TOKEN", "")
            info = introspect(gdir, tok) if tok else {}
            t.ok(info.get("active") is True and info.get("username") == g["DEMO_USER"],
                 "%s: the token in the PAM environment is the one Glewlwyd issued to %s"
                 % (auth, g["DEMO_USER"]), info)
            t.eq(r.env.get("OAUTH2_TOKEN_TYPE", "").lower(), "bearer",
                 "%s: OAUTH2_TOKEN_TYPE" % auth)
            t.ok(r.env.get("OAUTH2_EXPIRES_AT", "").isdigit(), "%s: OAUTH2_EXPIRES_AT" % auth,
                 r.env)
            no_leak(r, g["DEMO_PASSWORD"], g["CLIENT_SECRET"], tok)

        svc = service()
        # A password with UTF-8, an emoji, spaces and & = + % " '.
        r = pam.run(svc, g["SPECIAL_USER"], [g["SPECIAL_PASSWORD"]])
        t.eq(r.auth, PAM["PAM_SUCCESS"], "special-character password logs in")
        tok = r.env.get("OAUTH2_ACCESS_TOKEN", "")
        info = introspect(gdir, tok) if tok else {}
        t.eq(info.get("username"), g["SPECIAL_USER"], "special password: token is the user's")
        no_leak(r, g["SPECIAL_PASSWORD"], tok)

        # A wrong password: Glewlwyd answers 403 with an empty body.
        r = pam.run(svc, g["DEMO_USER"], ["not the password"])
        t.eq(r.auth, PAM["PAM_AUTH_ERR"], "wrong password refused: PAM_AUTH_ERR")
        t.eq(r.field("outcome"), "invalid_credentials", "wrong password: outcome in the log")
        t.eq(r.field("http"), "403", "wrong password: Glewlwyd said 403")
        t.eq(r.env, {}, "wrong password: nothing in the PAM environment")
        no_leak(r, "not the password")

        # A disabled user with the right password.
        r = pam.run(svc, g["DISABLED_USER"], [g["DISABLED_PASSWORD"]])
        t.eq(r.auth, PAM["PAM_AUTH_ERR"], "disabled user refused: PAM_AUTH_ERR")
        t.eq(r.field("outcome"), "invalid_credentials",
             "disabled user: Glewlwyd says no more than 403, logged as invalid_credentials")
        t.eq(r.env, {}, "disabled user: nothing in the PAM environment")

        # An unknown user looks exactly like a wrong password.
        r2 = pam.run(svc, "nobody-at-glewlwyd", ["whatever"])
        t.eq((r2.auth, r2.shown()), (r.auth, r.shown()),
             "unknown IdP user: same code and message as a wrong password")

        # A wrong client secret: Glewlwyd answers 400 with an empty body.
        svc_bad = service(secret="not-the-client-secret")
        r = pam.run(svc_bad, g["DEMO_USER"], [g["DEMO_PASSWORD"]])
        t.eq(r.auth, PAM["PAM_AUTH_ERR"], "wrong client secret refused (fail closed)")
        t.eq((r.field("outcome"), r.field("http")), ("unrecognised", "400"),
             "wrong client secret: logged as an unrecognised 400")

        oidc_cases(t, g, gdir, w, pam, no_leak)
        t0 = time.monotonic()
        device_cases(t, g, gdir, w, pam, no_leak)
        t.diag("device cases: %.1f s" % (time.monotonic() - t0))
        if os.environ.get("ROPC_SANITIZE") == "1":
            t.ok(not pam.sanitizer_reports and pam.runs > 10,
                 "sanitizers: no report in %d PAM runs" % pam.runs,
                 "\n\n".join("%s:\n%s" % r for r in pam.sanitizer_reports[:3]))
    finally:
        if started or os.path.exists(gdir):
            subprocess.run([GLEWLWYD, "stop", gdir], timeout=60)
        if "pam" in locals():
            pam.cleanup_wrapper_dirs()
        w.cleanup()
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
