#!/usr/bin/env python3
"""Glewlwyd tests: the built module against a real OAuth2/OIDC IdP.

tests/idp/glewlwyd.sh starts Glewlwyd (Debian package) on 127.0.0.1 over
HTTPS with a CA made for the run, and creates a confidential client and
three users (one enabled, one disabled, one with a password full of
special characters).  Each case logs in through the real libpam under
pam_wrapper and checks the PAM code, the log line, and, for a success,
that the token in the PAM environment is the one Glewlwyd issued to that
user (asked of Glewlwyd's introspection endpoint).  Output: TAP.
"""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from ropctest import PAM, TOP, Pam, Tap, Workdir  # noqa: E402

GLEWLWYD = os.path.join(TOP, "tests", "idp", "glewlwyd.sh")


def introspect(gdir, token):
    p = subprocess.run([GLEWLWYD, "introspect", gdir, "-"], input=token.encode(),
                       capture_output=True, timeout=30)
    try:
        return json.loads(p.stdout.decode())
    except ValueError:
        return {"error": p.stdout.decode() + p.stderr.decode()}


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
        if os.environ.get("ROPC_SANITIZE") == "1":
            t.ok(not pam.sanitizer_reports, "sanitizers: no report in %d PAM runs" % pam.count,
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
