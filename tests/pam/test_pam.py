#!/usr/bin/env python3
"""PAM tests: the real libpam and the built pam_ropc.so, under pam_wrapper,
against the scriptable test IdP over HTTPS with a CA made for the run.

Each case reads as a script: the options, what the person types, the PAM
code expected, what the person is shown, the log line, the environment, and
what reached the IdP.  Every run also checks that no password or token
appears in any log line.  Output: TAP.

Environment: ROPC_BUILDDIR (default ./build), ROPC_VALGRIND=1 to run the
module under valgrind memcheck (a smaller set of cases, see main()).
"""

import base64
import os
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from ropctest import BUILD, PAM, Pam, Tap, TestIdP, Workdir, make_pki  # noqa: E402

PW = "correct horse"
# A stand-in for a case-insensitive NSS source (tests/pam/nsscase.c):
# "ropcci" in any spelling is local uid 4242, "ropcsys" is uid 999.
NSSCASE = os.path.join(BUILD, "tests", "pam", "nsscase.so")
FAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"
CASES_SKIPPED_UNDER_VALGRIND = set()


class Suite:
    def __init__(self, t, w, valgrind=False):
        self.t = t
        self.w = w
        self.pki = make_pki(w.path)
        self.ca = os.path.join(self.pki, "ca.pem")
        self.idp = TestIdP(w.path, self.pki)
        self.pam = Pam(w.path)
        self.valgrind = valgrind
        self.vg_errors = 0

    # ---- helpers ----
    def args(self, scenario, extra="", query=""):
        """pam.d arguments for scenario; extra "k=v" words replace the
        defaults (a key given twice is refused by the module)."""
        opts = {"token_endpoint": self.idp.url(scenario, query), "ca_file": self.ca,
                "require_local_user": "no", "timeout": "5", "config": self.empty_config()}
        words = []
        for w in extra.split():
            k, eq, v = w.partition("=")
            if eq and k in opts and k != "extra_param":
                opts[k] = v
            else:
                words.append(w)
        return " ".join(["%s=%s" % kv for kv in opts.items()] + words)

    def preset_service(self, args):
        """A stack whose first module sets PAM_AUTHTOK from the environment."""
        return self.pam.service(["auth required SET_ITEMS", "auth required MODULE " + args])

    def nss(self):
        """The environment that preloads the case-insensitive NSS stand-in."""
        return {"LD_PRELOAD": "libpam_wrapper.so:" + NSSCASE}

    def empty_config(self):
        if not hasattr(self, "_empty"):
            self._empty = self.pam.config("# no settings here\n")
        return self._empty

    def login(self, service, user="alice", answers=(PW,), args=(), timeout=60,
              authtok=None, env=None, wrapper=()):
        extra_env = {"PAM_AUTHTOK": authtok} if authtok is not None else None
        if env:
            extra_env = dict(extra_env or {}, **env)
        if self.valgrind:
            self.vgn = getattr(self, "vgn", 0) + 1
            vglog = os.path.join(self.w.path, "valgrind-%d.log" % self.vgn)
            wrapper = tuple(wrapper) + ("valgrind", "--quiet", "--error-exitcode=99", "--leak-check=full",
                       "--errors-for-leak-kinds=definite", "--show-leak-kinds=definite",
                       "--log-file=" + vglog)
            extra_env = dict(extra_env or {}, PAM_WRAPPER_DISABLE_DEEPBIND="1")
            timeout = max(timeout, 180)
        r = self.pam.run(service, user, answers, args, timeout=timeout,
                         wrapper=wrapper, extra_env=extra_env)
        if self.valgrind:
            with open(vglog) as f:
                report = f.read()
            self.t.ok(r.rc != 99 and report.strip() == "",
                      "valgrind: no memcheck errors, nothing definitely lost (%s)" % service,
                      report[-3000:])
        self.no_secrets(r, answers, authtok)
        return r

    def no_secrets(self, r, answers, authtok=None):
        # Only the module's log lines: pam_wrapper's own trace prints items.
        secrets = [a for a in answers if isinstance(a, str) and len(a) >= 4]
        if authtok:
            secrets.append(authtok)
        secrets += [v for k, v in r.env.items() if k.endswith(("TOKEN",)) and v]
        logs = r.log_text()
        leaked = [s for s in secrets if s in logs]
        self.t.ok(not leaked, "no password or token in any log line",
                  "leaked: %r" % leaked)

    def expect(self, r, code, outcome, name, message=None, http=None):
        t = self.t
        t.eq(r.auth, PAM[code], "%s: %s" % (name, code))
        t.eq(r.field("outcome"), outcome, "%s: log says outcome=%s" % (name, outcome))
        t.eq(r.field("code"), code, "%s: log says code=%s" % (name, code))
        if message is not None:
            t.eq(r.shown("error"), [message] if message else [],
                 "%s: person is shown %r" % (name, message or "nothing"))
        if http is not None:
            t.eq(r.field("http"), str(http), "%s: log says http=%s" % (name, http))

    def fresh_requests(self, scenario, before):
        return self.idp.requests(scenario)[before:]

    # ---- cases ----
    def case_success(self):
        t = self.t
        svc = self.pam.simple(self.args("ok"), account=True)
        before = len(self.idp.requests("ok"))
        now = int(time.time())
        r = self.login(svc, "alice", [PW], ["--acct", "--setcred"])
        self.expect(r, "PAM_SUCCESS", "success", "success", message="", http=200)
        t.eq([m["text"] for m in r.messages if m["style"] == "prompt_echo_off"],
             ["Password: "], "success: one password prompt")
        tok = r.env.get("OAUTH2_ACCESS_TOKEN", "")
        t.ok(tok.endswith("-alice") and len(tok) > 40,
             "success: OAUTH2_ACCESS_TOKEN is the token the IdP issued for alice", repr(tok))
        t.eq(r.env.get("OAUTH2_TOKEN_TYPE"), "Bearer", "success: OAUTH2_TOKEN_TYPE")
        exp = int(r.env.get("OAUTH2_EXPIRES_AT", "0"))
        t.ok(now + 3600 - 5 <= exp <= now + 3600 + 60,
             "success: OAUTH2_EXPIRES_AT is now + expires_in", "%d vs now %d" % (exp, now))
        t.eq(r.env.get("OAUTH2_SCOPE"), "openid profile", "success: OAUTH2_SCOPE as granted")
        t.ok("OAUTH2_ID_TOKEN" not in r.env and "OAUTH2_REFRESH_TOKEN" not in r.env,
             "success: id and refresh tokens not exported by default", r.env)
        t.eq(r.data.get("acct"), PAM["PAM_SUCCESS"], "success: account management says yes")
        t.eq(r.data.get("setcred"), PAM["PAM_SUCCESS"], "success: setcred PAM_SUCCESS")
        reqs = self.fresh_requests("ok", before)
        t.eq(len(reqs), 1, "success: exactly one request to the IdP")
        if reqs:
            f = reqs[0]["form"] or {}
            t.eq(f.get("grant_type"), ["password"], "success: grant_type=password")
            t.eq(f.get("username"), ["alice"], "success: username sent")
            t.eq(f.get("password"), [PW], "success: password sent")
            t.eq(f.get("scope"), ["openid"], "success: default scope openid")
            t.eq(reqs[0]["headers"].get("content-type"), "application/x-www-form-urlencoded",
                 "success: form content type")
            t.ok("authorization" not in reqs[0]["headers"],
                 "success: public client sends no Authorization header")

    def case_export_options(self):
        t = self.t
        svc = self.pam.simple(self.args("ok", "export_id_token export_refresh_token=yes "
                                              "env_prefix=IDP_"))
        r = self.login(svc)
        t.eq(r.auth, 0, "export options: login succeeds")
        t.ok(r.env.get("IDP_ACCESS_TOKEN", "").endswith("-alice"),
             "env_prefix=IDP_: IDP_ACCESS_TOKEN set", r.env)
        t.ok("OAUTH2_ACCESS_TOKEN" not in r.env, "env_prefix=IDP_: no OAUTH2_ variables")
        t.ok(r.env.get("IDP_ID_TOKEN", "").count(".") == 2, "export_id_token: a JWT", r.env)
        t.ok(r.env.get("IDP_REFRESH_TOKEN", "").startswith("r-"), "export_refresh_token",
             r.env)
        svc = self.pam.simple(self.args("ok", "export_token=no"), account=True)
        r = self.login(svc, args=["--acct"])
        t.eq(r.auth, 0, "export_token=no: login succeeds")
        t.eq(r.env, {}, "export_token=no: the PAM environment stays empty")
        t.eq(r.data.get("acct"), 0, "export_token=no: account still knows (PAM data)")
        svc = self.pam.simple(self.args("ok_minimal"))
        r = self.login(svc)
        t.eq(r.auth, 0, "minimal token response: success")
        t.eq(sorted(r.env), ["OAUTH2_ACCESS_TOKEN", "OAUTH2_TOKEN_TYPE", "OAUTH2_USER"],
             "minimal token response: no EXPIRES_AT or SCOPE invented")

    OUTCOMES = [
        # scenario, PAM code, outcome in the log, message to the person
        ("password", "PAM_AUTH_ERR", "invalid_credentials", ""),
        ("keycloak_invalid", "PAM_AUTH_ERR", "invalid_credentials", ""),
        ("onelogin_auth_failed", "PAM_AUTH_ERR", "invalid_credentials", ""),
        ("onelogin_invalid_creds_status", "PAM_AUTH_ERR", "invalid_credentials", ""),
        ("entra_bad_password", "PAM_AUTH_ERR", "invalid_credentials", ""),
        ("entra_no_user", "PAM_AUTH_ERR", "idp_unknown_user", ""),
        ("glewlwyd_denied", "PAM_AUTH_ERR", "invalid_credentials", ""),
        ("onelogin_mfa", "PAM_CRED_INSUFFICIENT", "mfa_required",
         "multi-factor authentication is required for this account"),
        ("onelogin_mfa_v1_200", "PAM_CRED_INSUFFICIENT", "mfa_required",
         "multi-factor authentication is required for this account"),
        ("okta_mfa", "PAM_CRED_INSUFFICIENT", "mfa_required",
         "multi-factor authentication is required for this account"),
        ("entra_mfa", "PAM_CRED_INSUFFICIENT", "mfa_required",
         "multi-factor authentication is required for this account"),
        ("onelogin_locked", "PAM_MAXTRIES", "locked", "account locked at the identity provider"),
        ("onelogin_locked_status", "PAM_MAXTRIES", "locked",
         "account locked at the identity provider"),
        ("keycloak_temp_disabled", "PAM_MAXTRIES", "locked",
         "account locked at the identity provider"),
        ("entra_locked", "PAM_MAXTRIES", "locked", "account locked at the identity provider"),
        ("onelogin_suspended", "PAM_PERM_DENIED", "suspended",
         "account disabled at the identity provider"),
        ("keycloak_disabled", "PAM_PERM_DENIED", "suspended",
         "account disabled at the identity provider"),
        ("entra_disabled", "PAM_PERM_DENIED", "suspended",
         "account disabled at the identity provider"),
        ("onelogin_expired", "PAM_AUTHTOK_EXPIRED", "password_expired",
         "password expired; change it at the identity provider"),
        ("entra_expired", "PAM_AUTHTOK_EXPIRED", "password_expired",
         "password expired; change it at the identity provider"),
        ("onelogin_unauthorized", "PAM_PERM_DENIED", "access_denied",
         "not allowed to use this service"),
        ("rfc_access_denied", "PAM_PERM_DENIED", "access_denied",
         "not allowed to use this service"),
        ("onelogin_not_found", "PAM_SERVICE_ERR", "misconfigured", ""),
        ("onelogin_bad_header", "PAM_SERVICE_ERR", "misconfigured", ""),
        ("onelogin_unsupported_grant", "PAM_SERVICE_ERR", "misconfigured", ""),
        ("keycloak_bad_client", "PAM_SERVICE_ERR", "misconfigured", ""),
        ("rfc_invalid_client", "PAM_SERVICE_ERR", "misconfigured", ""),
        ("rfc_invalid_scope", "PAM_SERVICE_ERR", "misconfigured", ""),
        ("entra_invalid_client", "PAM_SERVICE_ERR", "misconfigured", ""),
        ("http500", "PAM_AUTHINFO_UNAVAIL", "unavailable", ""),
        ("http502", "PAM_AUTHINFO_UNAVAIL", "unavailable", ""),
        ("http503", "PAM_AUTHINFO_UNAVAIL", "unavailable", ""),
        ("http429", "PAM_AUTHINFO_UNAVAIL", "unavailable", ""),
        ("html200", "PAM_AUTHINFO_UNAVAIL", "unavailable", ""),
        ("token_empty", "PAM_AUTHINFO_UNAVAIL", "unavailable", ""),
        ("glewlwyd_bad_client", "PAM_AUTH_ERR", "unrecognised", ""),
        ("unknown_4xx", "PAM_AUTH_ERR", "unrecognised", ""),
    ]

    def case_outcomes(self, rows=None):
        for scen, code, outcome, msg in rows or self.OUTCOMES:
            svc = self.pam.simple(self.args(scen))
            r = self.login(svc, answers=["wrong password"])
            self.expect(r, code, outcome, scen, message=msg)

    ERROR_200 = [
        # scenario, PAM code, outcome: each a 200 holding a token
        ("token200_error_object", "PAM_AUTHINFO_UNAVAIL", "unavailable"),
        ("token200_error_true", "PAM_AUTHINFO_UNAVAIL", "unavailable"),
        ("token200_error_empty", "PAM_AUTHINFO_UNAVAIL", "unavailable"),
        ("token200_error_nul", "PAM_AUTHINFO_UNAVAIL", "unavailable"),
        ("token200_status_error", "PAM_AUTHINFO_UNAVAIL", "unavailable"),
        ("token200_desc_mfa", "PAM_CRED_INSUFFICIENT", "mfa_required"),
        ("token200_desc_locked", "PAM_MAXTRIES", "locked"),
    ]

    def case_error_bearing_200(self):
        """A 200 is a success only when it is a clean token response."""
        for scen, code, outcome in self.ERROR_200:
            r = self.login(self.pam.simple(self.args(scen)))
            self.expect(r, code, outcome, scen)
            self.t.eq(r.env, {}, "%s: no token exported" % scen)

    def case_silent(self):
        svc = self.pam.simple(self.args("onelogin_locked"))
        r = self.login(svc, args=["--silent"])
        self.expect(r, "PAM_MAXTRIES", "locked", "PAM_SILENT locked", message="")

    def case_log_line(self):
        t = self.t
        svc = self.pam.simple(self.args("onelogin_locked"))
        r = self.login(svc, "alice", args=["--rhost", "192.0.2.7"])
        line = r.auth_line()
        for want in ('outcome=locked', 'code=PAM_MAXTRIES', 'user="alice"',
                     'rhost="192.0.2.7"', 'service="%s"' % svc, 'http=400',
                     'idp_description="User is locked. Access is unauthorized"',
                     'detail="OneLogin \\"User is locked\\""'):
            t.ok(want in line, "log line has %s" % want, line)
        t.ok(r.field("elapsed_ms") is not None and r.field("elapsed_ms").isdigit(),
             "log line has elapsed_ms", line)
        prios = [p for p, txt in r.logs if txt.startswith("authentication ")]
        t.eq(prios, [5], "locked is logged once, at LOG_NOTICE")
        svc = self.pam.simple(self.args("control_chars_error"))
        r = self.login(svc)
        line = r.auth_line()
        t.ok("\x1b" not in line and "\r" not in line and "\x07" not in line and
             "\\x1b" in line, "control characters in error_description are escaped", line)

    def case_special_passwords(self):
        t = self.t
        pwds = ["pä ss&=+%\"' w0rd😀", "日本語のパスワード", "a+b=c&d=e", "%41%42 + ",
                "tab\there", "quote\"back\\slash"]
        svc = self.pam.simple(self.args("ok"))
        for pw in pwds:
            before = len(self.idp.requests("ok"))
            r = self.login(svc, answers=[pw])
            reqs = self.fresh_requests("ok", before)
            got = reqs[0]["form"].get("password") if reqs and reqs[0]["form"] else None
            t.ok(r.auth == 0 and got == [pw],
                 "password %r arrives byte-exact as one value" % pw, "got %r auth %r" %
                 (got, r.auth))

    def case_injection(self):
        t = self.t
        svc = self.pam.simple(self.args("ok"))
        before = len(self.idp.requests("ok"))
        r = self.login(svc, user="alice&scope=admin&grant_type=client_credentials")
        reqs = self.fresh_requests("ok", before)
        f = reqs[0]["form"] if reqs else {}
        t.eq(f.get("username"), ["alice&scope=admin&grant_type=client_credentials"],
             "username injection: one encoded value")
        t.eq(f.get("scope"), ["openid"], "username injection: scope untouched")
        t.eq(f.get("grant_type"), ["password"], "username injection: grant_type untouched")
        t.eq(r.auth, 0, "username injection: IdP decides (here: yes)")

    def case_request_shape(self):
        t = self.t
        secret_conf = self.pam.config("client_secret = s3cr&t:+x\n", mode=0o600)
        cases = [
            ("client_auth=basic", "basic"),
            ("client_auth=post", "post"),
        ]
        for opt, kind in cases:
            svc = self.pam.simple(
                "token_endpoint=%s ca_file=%s require_local_user=no config=%s client_id=pam-box "
                "%s scope=openid%%20profile resource=https://api.example/ "
                "extra_param=audience=ssh extra_param=tenant=a&b username_format=%%u@corp.example"
                % (self.idp.url("ok"), self.ca, secret_conf, opt))
            # pam.d arguments cannot hold spaces; scope with a space goes via config below
            before = len(self.idp.requests("ok"))
            r = self.login(svc)
            reqs = self.fresh_requests("ok", before)
            if not t.ok(r.auth != PAM["PAM_SERVICE_ERR"] and len(reqs) == 1,
                        "%s: request sent" % opt, r.log_text()):
                continue
            req = reqs[0]
            f = req["form"]
            t.eq(f.get("username"), ["alice@corp.example"], "%s: username_format applied" % opt)
            t.eq(f.get("resource"), ["https://api.example/"], "%s: resource sent" % opt)
            t.eq(f.get("audience"), ["ssh"], "%s: extra_param sent" % opt)
            t.eq(f.get("tenant"), ["a&b"], "%s: extra_param value encoded" % opt)
            if kind == "basic":
                t.eq(req.get("basic_auth_urldecoded") or req.get("basic_auth"),
                     ["pam-box", "s3cr&t:+x"], "basic: client id and secret in Basic auth")
                t.ok("client_secret" not in f and "client_id" not in f,
                     "basic: neither id nor secret in the body", f)
            else:
                t.eq((f.get("client_id"), f.get("client_secret")),
                     (["pam-box"], ["s3cr&t:+x"]), "post: id and secret in the body")
                t.ok("authorization" not in req["headers"], "post: no Authorization header")
        # none: a public client sends its client_id only
        svc = self.pam.simple(self.args("ok", "client_id=public-box client_auth=none"))
        before = len(self.idp.requests("ok"))
        self.login(svc)
        reqs = self.fresh_requests("ok", before)
        t.ok(reqs and reqs[0]["form"].get("client_id") == ["public-box"] and
             "client_secret" not in reqs[0]["form"], "none: client_id only",
             reqs and reqs[0]["form"])
        # scope with spaces from the config file
        conf = self.pam.config("scope = openid profile email\n")
        svc = self.pam.simple("token_endpoint=%s ca_file=%s require_local_user=no config=%s"
                              % (self.idp.url("ok"), self.ca, conf))
        before = len(self.idp.requests("ok"))
        self.login(svc)
        reqs = self.fresh_requests("ok", before)
        t.ok(reqs and reqs[0]["form"].get("scope") == ["openid profile email"],
             "scope from the config file, spaces kept", reqs and reqs[0]["form"])

    def case_refused_locally(self):
        t = self.t
        cases = [
            ("unknown local user", "no-such-user-ropc", [PW], "require_local_user=yes",
             "PAM_USER_UNKNOWN", "unknown_user"),
            ("empty password", "alice", [""], "", "PAM_AUTH_ERR", "rejected_input"),
            ("sshd junk password", "alice", None, "", "PAM_AUTH_ERR", "rejected_input"),
            ("password of 600 bytes", "alice", ["x" * 600], "", "PAM_AUTH_ERR",
             "rejected_input"),
            ("user name of 300 bytes", "u" * 300, [PW], "", "PAM_USER_UNKNOWN",
             "unknown_user"),
            ("user name not UTF-8", b"al\xffice", [PW], "",
             "PAM_USER_UNKNOWN", "unknown_user"),
        ]
        for name, user, answers, extra, code, outcome in cases:
            before = len(self.idp.requests())
            if answers is None:
                # sshd sets it as PAM_AUTHTOK (it holds a newline).
                svc = self.preset_service(self.args("ok", "use_first_pass"))
                r = self.login(svc, user=user, answers=[], authtok="\b\n\r\x7fINCORRECT")
            else:
                svc = self.pam.simple(self.args("ok", extra))
                r = self.login(svc, user=user, answers=answers)
            self.expect(r, code, outcome, name, message="")
            t.eq(len(self.idp.requests()) - before, 0, "%s: zero requests to the IdP" % name)
            if code == "PAM_USER_UNKNOWN":
                t.eq([m["text"] for m in r.messages if m["style"] == "prompt_echo_off"],
                     ["Password: "], "%s: asked for a password all the same (no probing "
                     "of which accounts exist)" % name)
        # a local user that exists goes through
        svc = self.pam.simple(self.args("ok", "require_local_user=yes"))
        r = self.login(svc, user="ropcci", env=self.nss())
        t.eq(r.auth, 0, "require_local_user: an existing local user (uid 4242) may ask the IdP")

    def case_first_pass(self):
        """An earlier module's PAM_AUTHTOK (a local password typed for
        pam_unix, say) reaches the IdP only when try_first_pass or
        use_first_pass asks for it."""
        t = self.t

        def prompts(r):
            return [m["text"] for m in r.messages if m["style"].startswith("prompt")]

        def sent(before):
            reqs = self.fresh_requests("ok", before)
            return [q["form"].get("password") for q in reqs]

        # By default: prompt, and send what was typed, never the stacked one.
        svc = self.preset_service(self.args("ok"))
        before = len(self.idp.requests("ok"))
        r = self.login(svc, answers=[PW], authtok="local unix password")
        t.eq(prompts(r), ["Password: "], "default: prompts although PAM_AUTHTOK is set")
        t.eq(sent(before), [[PW]], "default: the typed password, not the earlier module's, "
             "reaches the IdP")
        # use_first_pass: use it, no prompt; fail without it.
        svc = self.preset_service(self.args("ok", "use_first_pass"))
        before = len(self.idp.requests("ok"))
        r = self.login(svc, answers=[], authtok="earlier module's pw")
        t.eq(r.auth, 0, "use_first_pass: uses PAM_AUTHTOK")
        t.eq(prompts(r), [], "use_first_pass: no prompt")
        t.eq(sent(before), [["earlier module's pw"]],
             "use_first_pass: the stacked password reached the IdP")
        before = len(self.idp.requests())
        svc = self.pam.simple(self.args("ok", "use_first_pass"))
        r = self.login(svc, answers=[])
        self.expect(r, "PAM_AUTH_ERR", "rejected_input", "use_first_pass without a password",
                    message="")
        t.eq(len(self.idp.requests()) - before, 0,
             "use_first_pass without a password: zero requests")
        # try_first_pass: use it, else prompt.
        svc = self.preset_service(self.args("ok", "try_first_pass"))
        before = len(self.idp.requests("ok"))
        r = self.login(svc, answers=[], authtok="stacked password")
        t.ok(r.auth == 0 and not prompts(r), "try_first_pass with PAM_AUTHTOK: no prompt",
             r.messages)
        t.eq(sent(before), [["stacked password"]],
             "try_first_pass with PAM_AUTHTOK: the stacked password reached the IdP")
        svc = self.pam.simple(self.args("ok", "try_first_pass"))
        before = len(self.idp.requests("ok"))
        r = self.login(svc, answers=[PW])
        t.ok(r.auth == 0 and prompts(r) == ["Password: "],
             "try_first_pass without PAM_AUTHTOK: prompts", r.messages)
        t.eq(sent(before), [[PW]], "try_first_pass without PAM_AUTHTOK: the typed password")
        # try_first_pass=no / use_first_pass=no mean no.
        svc = self.preset_service(self.args("ok", "try_first_pass=no"))
        r = self.login(svc, answers=[PW], authtok="stacked password")
        t.eq(prompts(r), ["Password: "], "try_first_pass=no: prompts")

    def case_environment_hazards(self):
        """What a user's environment must not change: no_proxy cannot
        bypass a configured proxy; SSLKEYLOGFILE is not written."""
        t = self.t
        # The proxy is a closed port: the only way to reach the IdP would
        # be to bypass it.
        svc = self.pam.simple(self.args("ok", "proxy=http://127.0.0.1:1"))
        before = len(self.idp.requests())
        r = self.pam.run(svc, "alice", [PW], extra_env={"NO_PROXY": "*", "no_proxy": "*"})
        t.eq(r.auth, PAM["PAM_AUTHINFO_UNAVAIL"], "no_proxy=* cannot bypass the configured proxy")
        t.eq(len(self.idp.requests()) - before, 0, "no_proxy=*: nothing reached the IdP directly")
        # (SSLKEYLOGFILE is hidden from libcurl only in setuid callers: the
        # e2e layer checks it under the real sudo.)
        svc = self.pam.simple(self.args("ok"))
        # https_proxy from the environment is ignored without proxy=.
        r = self.pam.run(svc, "alice", [PW], extra_env={"https_proxy": "http://127.0.0.1:1",
                                                        "HTTPS_PROXY": "http://127.0.0.1:1"})
        t.eq(r.auth, 0, "https_proxy in the environment is ignored")
        # use_first_pass=no really means no.
        svc = self.pam.simple(self.args("ok", "use_first_pass=no"))
        r = self.login(svc)
        t.ok(r.auth == 0 and [m["text"] for m in r.messages] == ["Password: "],
             "use_first_pass=no: prompts as usual", r.messages)
        # A CA file that does not exist is the admin's error, not the IdP's.
        svc = self.pam.simple(self.args("ok", "ca_file=%s/no-such-ca.pem" % self.w.path))
        r = self.login(svc)
        self.expect(r, "PAM_SERVICE_ERR", "misconfigured", "missing ca_file", message="")
        t.ok(any(p == 3 and "ca_file" in txt and "does not exist" in txt for p, txt in r.logs),
             "missing ca_file: LOG_ERR names it", r.log_text())
        # error_map on the pam.d line replaces the file's list.
        conf = self.pam.config("error_map = suspended:Invalid user credentials\n")
        svc = self.pam.simple("token_endpoint=%s ca_file=%s require_local_user=no config=%s "
                              "error_map=locked:Invalid%%20user" % (
                                  self.idp.url("keycloak_invalid"), self.ca, conf))
        r = self.login(svc)
        t.eq(r.field("outcome"), "invalid_credentials",
             "error_map in pam.d replaces the file's entries (none of them matches here)")

    def case_retries(self):
        """sudo calls pam_authenticate up to three times in one transaction.
        An account-level refusal is remembered: the IdP is asked once; a
        wrong password is not remembered: each try is asked."""
        t = self.t
        for scen, code, asked in (("onelogin_locked", "PAM_MAXTRIES", 1),
                                  ("onelogin_suspended", "PAM_PERM_DENIED", 1),
                                  ("http503", "PAM_AUTHINFO_UNAVAIL", 1),
                                  ("password", "PAM_AUTH_ERR", 3)):
            svc = self.pam.simple(self.args(scen))
            before = len(self.idp.requests(scen))
            r = self.login(svc, answers=["wrong 1", "wrong 2", "wrong 3"],
                           args=["--repeat", "3"])
            lines = [txt for p, txt in r.logs if txt.startswith("authentication ")]
            t.eq(r.auth, PAM[code], "3 tries, %s: the last still %s" % (scen, code))
            t.eq(len(self.idp.requests(scen)) - before, asked,
                 "3 tries, %s: the IdP is asked %d time(s)" % (scen, asked))
            t.eq(len(lines), 3, "3 tries, %s: one log line per try" % scen)
            if asked == 1:
                t.ok(all("refused earlier in this PAM transaction" in l for l in lines[1:]),
                     "3 tries, %s: later lines say the refusal was remembered" % scen,
                     "\n".join(lines))
                t.eq(len([m for m in r.messages if m["style"] == "prompt_echo_off"]), 1,
                     "3 tries, %s: the password is asked for once" % scen)

    def case_dns_blackhole(self):
        """A resolver that never answers: the call still ends within
        timeout + 1 s (libcurl must not wait for getaddrinfo at cleanup).
        A private mount namespace points resolv.conf at a silent UDP
        listener on 127.0.0.2:53."""
        import socket
        import threading
        t = self.t
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.bind(("127.0.0.2", 53))
        except OSError as e:
            t.ok(False, "DNS blackhole: cannot bind 127.0.0.2:53", e)
            return
        stop = threading.Event()

        def swallow():
            sock.settimeout(0.2)
            while not stop.is_set():
                try:
                    sock.recvfrom(2048)     # read and never answer
                except OSError:
                    pass
        th = threading.Thread(target=swallow, daemon=True)
        th.start()
        resolv = os.path.join(self.w.path, "resolv.conf")
        with open(resolv, "w") as f:
            f.write("nameserver 127.0.0.2\noptions timeout:5 attempts:3\n")
        try:
            svc = self.pam.simple(self.args("ok", "timeout=2 connect_timeout=2").replace(
                "https://127.0.0.1:", "https://idp.blackhole.invalid:"))
            wrap = ("unshare", "-m", "sh", "-c",
                    'mount --bind "$0" /etc/resolv.conf && exec "$@"', resolv)
            r = self.pam.run(svc, "alice", [PW], wrapper=wrap)
            self.expect(r, "PAM_AUTHINFO_UNAVAIL", "unavailable", "DNS never answers")
            t.ok(r.elapsed < 3.0, "DNS never answers: returns within timeout + 1 s",
                 "took %.2fs; %s" % (r.elapsed, r.auth_line()))
        finally:
            stop.set()
            th.join(2)
            sock.close()

    def case_state(self):
        """What one PAM handle remembers, and for whom."""
        t = self.t
        # Account management: a token in the environment counts only for
        # the user it was issued to.
        svc = self.pam.service([
            "auth required MODULE " + self.args("ok"),
            "account required SET_ITEMS",
            "account sufficient MODULE " + self.args("ok"),
            "account required pam_deny.so"])
        r = self.login(svc, args=["--acct"])
        t.eq(r.env.get("OAUTH2_USER"), "alice", "OAUTH2_USER names the user the token is for")
        t.eq(r.data.get("acct"), 0, "account: same user, the module vouches")
        r = self.pam.run(svc, "alice", [PW], ["--acct"], extra_env={"PAM_USER": "bob"})
        t.ok(r.auth == 0 and r.data.get("acct") != 0,
             "account: PAM_USER changed to bob after alice's login: the module does not "
             "vouch for bob", r.data)
        # A later failed attempt in the same handle leaves no token behind.
        svc = self.pam.simple(self.args("password"))
        r = self.login(svc, answers=[PW, "wrong password"], args=["--repeat", "2"])
        t.eq((r.auth, r.env), (PAM["PAM_AUTH_ERR"], {}),
             "success then a failure in one handle: no token left in the environment")
        # A refusal remembered for one IdP does not answer for another.
        svc = self.pam.service([
            "auth [default=ignore] MODULE " + self.args("onelogin_locked"),
            "auth required MODULE " + self.args("ok")])
        r = self.login(svc, answers=[PW, PW])
        t.eq(r.auth, 0, "two pam_ropc lines, two IdPs: the first one's 'locked' does not "
             "answer for the second")
        # The module's own mark, not a token in the environment, is what
        # account management trusts: a forged token does not count.
        svc = self.pam.simple(self.args("ok"), account=True)
        r = self.login(svc, answers=[], args=["--no-auth", "--acct", "--putenv",
                                               "OAUTH2_ACCESS_TOKEN=forged", "--putenv",
                                               "OAUTH2_USER=alice"])
        t.ok(r.data.get("acct") not in (None, 0),
             "account: a token and OAUTH2_USER put in the environment by someone else do not "
             "count", r.data)
        # Settings that cannot be trusted: account fails closed.
        svc = self.pam.service(["account required MODULE " + self.args("ok", "timeout=ten")])
        r = self.login(svc, answers=[], args=["--no-auth", "--acct"])
        t.eq(r.data.get("acct"), PAM["PAM_SERVICE_ERR"],
             "account with refused settings: PAM_SERVICE_ERR")

    def case_clean_handle(self):
        """Each authentication starts from a clean handle: the success mark
        and the exported variables of an earlier one are gone, even when
        the settings cannot be read the second time."""
        t = self.t
        svc = self.pam.simple(self.args("password"), account=True)
        r = self.login(svc, answers=[PW, "wrong password"], args=["--repeat", "2", "--acct"])
        t.eq(r.data.get("auths"), [0, PAM["PAM_AUTH_ERR"]],
             "clean handle: success, then invalid_grant")
        t.ok(r.data.get("acct") not in (None, 0),
             "clean handle: after a failed second authentication, account management does "
             "not vouch", r.data)
        t.eq(r.env, {}, "clean handle: no variable of the first authentication is left")
        # The second time the settings are broken: cleaned all the same,
        # under the prefix the first export used.
        conf = self.pam.config("env_prefix = IDP_\n")
        broken = self.pam.config("env_prefix = IDP_\nno_such_key = 1\n")
        svc = self.pam.simple("token_endpoint=%s ca_file=%s require_local_user=no config=%s"
                              % (self.idp.url("ok"), self.ca, conf), account=True)
        r = self.login(svc, answers=[PW, PW], args=[
            "--repeat", "2", "--acct", "--between", "cp %s %s" % (broken, conf)])
        t.eq(r.data.get("auths"), [0, PAM["PAM_SERVICE_ERR"]],
             "clean handle: success, then settings refused")
        t.eq(r.env, {}, "clean handle: IDP_ variables removed although the settings could not "
             "be read")
        t.ok(r.data.get("acct") not in (None, 0), "clean handle: account does not vouch",
             r.data)

    def case_identity(self):
        """Root and system accounts never go to the IdP; the IdP is asked
        about the local account's own name."""
        t = self.t

        def run(user, extra, env=None):
            svc = self.pam.simple(self.args("ok", extra))
            before = len(self.idp.requests("ok"))
            r = self.login(svc, user=user, env=env)
            return r, self.fresh_requests("ok", before)

        def ignored(r, name):
            # The module says PAM_IGNORE; libpam turns a stack where every
            # module ignored into PAM_PERM_DENIED.
            t.eq((r.field("outcome"), r.field("code"), r.auth),
                 ("system_account", "PAM_IGNORE", PAM["PAM_PERM_DENIED"]),
                 "%s: the module ignores the account (PAM_IGNORE)" % name)

        for extra in ("require_local_user=yes", "require_local_user=no",
                      "require_local_user=yes username_format=%u@example.com"):
            r, reqs = run("root", extra)
            ignored(r, "root (%s)" % extra)
            t.eq((len(reqs), [m for m in r.messages if m["style"].startswith("prompt")]),
                 (0, []), "root (%s): no prompt, no request" % extra)
        t.ok("below minimum_uid 1000" in (r.field("detail") or ""),
             "root: the log line says why", r.auth_line())
        r, reqs = run("ropcsys", "", env=self.nss())
        ignored(r, "uid 999")
        t.eq(len(reqs), 0, "uid 999: no request")
        r, reqs = run("ropcsys", "minimum_uid=999", env=self.nss())
        t.ok(r.auth == 0 and [q["form"]["username"] for q in reqs] == [["ropcsys"]],
             "minimum_uid=999: uid 999 is asked about", r.auth_line())
        r, reqs = run("root", "minimum_uid=0")
        t.ok(len(reqs) == 1, "minimum_uid=0: root is sent (the option is what decides)",
             r.auth_line())
        # A stack goes on past PAM_IGNORE: pam_unix after us handles root.
        svc = self.pam.service([
            "auth [success=done ignore=ignore default=die] MODULE " + self.args("ok"),
            "auth required pam_permit.so"])
        r = self.login(svc, user="root", answers=[])
        t.eq(r.auth, 0, "root: the next module of the stack decides")
        # The canonical local name, not what was typed.
        for user, extra, want in (
                ("ROPCCI", "require_local_user=yes", "ropcci"),
                ("RopCCi", "require_local_user=yes username_format=%u@corp.example",
                 "ropcci@corp.example"),
                ("ROPCCI", "require_local_user=no", "ROPCCI")):
            r, reqs = run(user, extra, env=self.nss())
            t.ok(r.auth == 0 and [q["form"]["username"] for q in reqs] == [[want]],
                 "%s typed (%s): the IdP is asked about %r" % (user, extra, want),
                 "%s %r" % (r.auth_line(), [q["form"].get("username") for q in reqs]))
        r, reqs = run("ROPCCI", "require_local_user=yes", env=self.nss())
        t.ok('user="ropcci"' in r.auth_line() and 'typed_user="ROPCCI"' in r.auth_line() and
             r.env.get("OAUTH2_USER") == "ropcci",
             "canonical name: the log says both names, OAUTH2_USER the local one", r.auth_line())

    def case_unprivileged(self):
        """A screen locker runs PAM as the user: the root-only settings
        cannot be read.  One LOG_ERR line, PAM_AUTHINFO_UNAVAIL, so that a
        local fallback stack answers."""
        t = self.t
        conf = self.pam.config("token_endpoint = %s\nca_file = %s\nrequire_local_user = no\n"
                               % (self.idp.url("ok"), self.ca), mode=0o600)
        as_nobody = ("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups")
        before = len(self.idp.requests())
        svc = self.pam.simple("config=" + conf)
        r = self.login(svc, wrapper=as_nobody)
        self.expect(r, "PAM_AUTHINFO_UNAVAIL", "unavailable", "unprivileged caller", message="")
        errs = [x for p, x in r.logs if p == 3 and x.startswith("config:")]
        t.ok(len(errs) == 1 and "not root" in errs[0] and "PAM_AUTHINFO_UNAVAIL" in errs[0],
             "unprivileged caller: one LOG_ERR line saying exactly that", r.log_text())
        t.eq(len(self.idp.requests()) - before, 0, "unprivileged caller: no request")
        svc = self.pam.service([
            "auth [success=done authinfo_unavail=ignore default=die] MODULE config=" + conf,
            "auth required pam_permit.so"])
        r = self.login(svc, wrapper=as_nobody, answers=[])
        t.eq(r.auth, 0, "unprivileged caller: the fallback line after the module answers")
        # As root the same file is fine; a broken file stays a config error.
        r = self.login(self.pam.simple("config=" + conf))
        t.eq(r.auth, 0, "the same settings as root: login")
        bad = self.pam.config("token_endpoint = %s\nno_such_key = 1\n" % self.idp.url("ok"),
                              mode=0o644)
        r = self.login(self.pam.simple("config=" + bad), wrapper=as_nobody)
        self.expect(r, "PAM_SERVICE_ERR", "misconfigured",
                    "unprivileged caller, readable but wrong settings", message="")
        # Only an unreadable file, and nothing else wrong, is "unavailable".
        r = self.login(self.pam.simple("config=%s no_such_arg=1" % conf), wrapper=as_nobody)
        self.expect(r, "PAM_SERVICE_ERR", "misconfigured",
                    "unprivileged caller, unreadable file and an unknown pam.d argument",
                    message="")
        secret = self.pam.config("s3cret\n", mode=0o600)
        readable = self.pam.config("token_endpoint = %s\nca_file = %s\nrequire_local_user = no\n"
                                   "client_id = box\nclient_secret_file = %s\n"
                                   % (self.idp.url("ok"), self.ca, secret), mode=0o644)
        r = self.login(self.pam.simple("config=" + readable), wrapper=as_nobody)
        self.expect(r, "PAM_AUTHINFO_UNAVAIL", "unavailable",
                    "unprivileged caller, readable config, root-only secret file", message="")
        t.ok(any(p == 3 and "not root" in x and secret in x for p, x in r.logs),
             "unprivileged caller: the LOG_ERR line names the file it could not read",
             r.log_text())

    def case_refusal_memory(self):
        """A remembered refusal holds 60 s (the clock is moved from outside
        the module with libfaketime), and only for its own user, token
        endpoint, client_id and username_format."""
        t = self.t
        clock = os.path.join(self.w.path, "faketime.rc")
        ft = {"LD_PRELOAD": "libpam_wrapper.so:" + FAKETIME,
              "FAKETIME_TIMESTAMP_FILE": clock, "FAKETIME_NO_CACHE": "1"}
        svc = self.pam.simple(self.args("onelogin_locked"))
        for step, asked in (("+59", 1), ("+61", 2)):
            with open(clock, "w") as f:
                f.write("+0\n")
            before = len(self.idp.requests("onelogin_locked"))
            r = self.login(svc, answers=[PW, PW], env=ft, args=[
                "--repeat", "2", "--between", "echo '%s' > %s" % (step, clock)])
            t.eq((r.data.get("auths"), len(self.idp.requests("onelogin_locked")) - before),
                 ([PAM["PAM_MAXTRIES"]] * 2, asked),
                 "refusal memory, clock moved %s s: the IdP is asked %d time(s)" % (step, asked))
        # Another user in the same handle is asked.
        before = len(self.idp.requests("onelogin_locked"))
        r = self.login(svc, answers=[PW, PW], args=["--repeat", "2", "--users", "alice,bob"])
        reqs = self.fresh_requests("onelogin_locked", before)
        t.eq([q["form"]["username"] for q in reqs], [["alice"], ["bob"]],
             "a refusal remembered for alice does not answer for bob")
        # Two lines, one endpoint, two clients.
        url = self.idp.url("locked_for_client_a")
        svc = self.pam.service([
            "auth [default=ignore] MODULE " + self.args("locked_for_client_a", "client_id=client-a"),
            "auth required MODULE " + self.args("locked_for_client_a", "client_id=client-b")])
        r = self.login(svc, answers=[PW, PW])
        t.eq(r.auth, 0, "two lines, one endpoint, two clients: client-a's 'locked' does not "
             "answer for client-b")
        t.eq(len(self.idp.requests("locked_for_client_a")), 2,
             "two clients: both asked (%s)" % url)
        svc = self.pam.service([
            "auth [default=ignore] MODULE " + self.args("locked_for_corp_name",
                                                        "username_format=%u@corp"),
            "auth required MODULE " + self.args("locked_for_corp_name")])
        r = self.login(svc, answers=[PW, PW])
        t.eq(r.auth, 0, "two lines, two username_formats: the first one's 'locked' does not "
             "answer for the second")

    def case_urls(self):
        """URLs are parsed when the settings are read: malformed is the
        admin's error (not "unavailable", which a fallback forgives);
        credentials in URLs are refused where they could leak and are
        never logged."""
        t = self.t
        for name, opt, why in (
                ("malformed IPv6 endpoint", "token_endpoint=https://[::1/token",
                 "is not a valid URL"),
                ("malformed proxy", "proxy=http://[::1:3128", "is not a valid URL"),
                ("endpoint with user:password@",
                 "token_endpoint=https://u:hunter2@127.0.0.1:%d/s/ok/token" % self.idp.port,
                 "holds user:password@"),
                ("proxy with credentials in pam.d", "proxy=http://pu:hunter3@127.0.0.1:1",
                 "holds proxy credentials")):
            before = len(self.idp.requests())
            r = self.login(self.pam.simple(self.args("ok", opt)))
            self.expect(r, "PAM_SERVICE_ERR", "misconfigured", name, message="")
            t.ok(any(p == 3 and why in x for p, x in r.logs), "%s: LOG_ERR says %r" % (name, why),
                 r.log_text())
            t.ok("hunter" not in r.log_text(), "%s: no credential in any log line" % name,
                 r.log_text())
            t.eq(len(self.idp.requests()) - before, 0, "%s: zero requests" % name)
        conf = self.pam.config("proxy = http://pu:hunter3@127.0.0.1:1\n", mode=0o600)
        r = self.login(self.pam.simple("token_endpoint=%s ca_file=%s require_local_user=no "
                                       "config=%s" % (self.idp.url("ok"), self.ca, conf)))
        self.expect(r, "PAM_AUTHINFO_UNAVAIL", "unavailable",
                    "proxy credentials from a mode 600 file: accepted (the proxy is down)",
                    message="")
        t.ok("hunter" not in r.log_text(), "proxy from the file: no credential logged")

    def server_pin(self, key):
        """sha256//base64 of the public key of pki/KEY.key, by openssl."""
        import subprocess
        der = subprocess.run(["openssl", "pkey", "-in", os.path.join(self.pki, key + ".key"),
                              "-pubout", "-outform", "DER"], check=True,
                             capture_output=True).stdout
        import hashlib
        return "sha256//" + base64.b64encode(hashlib.sha256(der).digest()).decode()

    def case_trust_pins(self):
        """pinned_public_key and ca_path each decide a login."""
        import subprocess
        t = self.t
        rogue_pub = os.path.join(self.w.path, "rogue-pub.pem")
        server_pub = os.path.join(self.w.path, "server-pub.pem")
        for key, path in (("rogue", rogue_pub), ("server", server_pub)):
            subprocess.run(["openssl", "pkey", "-in", os.path.join(self.pki, key + ".key"),
                            "-pubout", "-out", path], check=True, capture_output=True)
        for name, pin, code in (
                ("the server's pin", self.server_pin("server"), "PAM_SUCCESS"),
                ("the server's key file", server_pub, "PAM_SUCCESS"),
                ("a wrong pin", self.server_pin("rogue"), "PAM_AUTHINFO_UNAVAIL"),
                ("a wrong key file", rogue_pub, "PAM_AUTHINFO_UNAVAIL"),
                ("a list holding the right pin",
                 self.server_pin("rogue") + ";" + self.server_pin("server"), "PAM_SUCCESS")):
            r = self.login(self.pam.simple(self.args("ok", "pinned_public_key=" + pin)))
            t.eq(r.auth, PAM[code], "pinned_public_key, %s: %s" % (name, code))
            if code != "PAM_SUCCESS":
                t.ok("TLS failure" in (r.field("detail") or ""),
                     "pinned_public_key, %s: the log says TLS failure" % name, r.auth_line())
        # ca_path: a hashed directory of CAs.
        good = os.path.join(self.w.path, "capath-good")
        empty = os.path.join(self.w.path, "capath-empty")
        os.makedirs(good)
        os.makedirs(empty)
        with open(self.ca) as src, open(os.path.join(good, "test-ca.pem"), "w") as dst:
            dst.write(src.read())
        subprocess.run(["openssl", "rehash", good], check=True, capture_output=True)
        for name, path, code in (("holding the test CA", good, "PAM_SUCCESS"),
                                 ("without the test CA", empty, "PAM_AUTHINFO_UNAVAIL")):
            args = self.args("ok", "ca_path=" + path).replace("ca_file=%s " % self.ca, "")
            r = self.login(self.pam.simple(args))
            t.eq(r.auth, PAM[code], "ca_path %s: %s" % (name, code))

    def case_ca_store(self):
        """ca_file replaces the system store: a server whose certificate
        chains to a CA in the system store, but not in ca_file, is refused.
        The system store is made to hold the rogue CA in a private mount
        namespace (the real one is never touched)."""
        t = self.t
        import subprocess
        rogue = TestIdP(self.w.path, self.pki, name="store-rogue", cert="rogue")
        try:
            # The system store, both ways libcurl reads it: the bundle file
            # and the hashed directory (CAINFO and CAPATH), each holding
            # the rogue CA as well.
            store = os.path.join(self.w.path, "system-certs")
            os.makedirs(store)
            with open("/etc/ssl/certs/ca-certificates.crt") as a, \
                    open(os.path.join(self.pki, "rogue-ca.pem")) as b, \
                    open(os.path.join(store, "ca-certificates.crt"), "w") as out:
                out.write(a.read() + "\n" + b.read())
            with open(os.path.join(self.pki, "rogue-ca.pem")) as b, \
                    open(os.path.join(store, "rogue-ca.pem"), "w") as out:
                out.write(b.read())
            subprocess.run(["openssl", "rehash", store], check=True, capture_output=True)
            wrap = ("unshare", "-m", "sh", "-c",
                    'mount --bind "$0" /etc/ssl/certs && exec "$@"', store)
            url = self.args("ok").replace(":%d/" % self.idp.port, ":%d/" % rogue.port)
            r = self.pam.run(self.pam.simple(url.replace("ca_file=%s " % self.ca, "")),
                             "alice", [PW], wrapper=wrap)
            t.eq(r.auth, 0, "precondition: without ca_file the system store (holding the "
                 "rogue CA) is trusted")
            r = self.pam.run(self.pam.simple(url), "alice", [PW], wrapper=wrap)
            self.expect(r, "PAM_AUTHINFO_UNAVAIL", "unavailable",
                        "ca_file given: a CA only in the system store is not trusted")
            # The same with ca_path: it replaces the store too.
            capath = os.path.join(self.w.path, "store-capath")
            os.makedirs(capath)
            with open(self.ca) as src, open(os.path.join(capath, "test-ca.pem"), "w") as dst:
                dst.write(src.read())
            subprocess.run(["openssl", "rehash", capath], check=True, capture_output=True)
            r = self.pam.run(self.pam.simple(url.replace("ca_file=%s " % self.ca,
                                                         "ca_path=%s " % capath)),
                             "alice", [PW], wrapper=wrap)
            self.expect(r, "PAM_AUTHINFO_UNAVAIL", "unavailable",
                        "ca_path given: a CA only in the system store is not trusted")
        finally:
            rogue.stop()

    def trust_file_paths(self):
        """The files' own owner, and every directory above them."""
        t = self.t
        import shutil
        # A CA file owned by another user.
        ca = os.path.join(self.w.path, "ca-uid1.pem")
        shutil.copy(self.ca, ca)
        os.chown(ca, 1, 1)
        r = self.login(self.pam.simple(self.args("ok", "ca_file=" + ca)))
        self.expect(r, "PAM_SERVICE_ERR", "misconfigured", "ca_file owned by uid 1", message="")
        # A symlink in a directory anybody can write, to the real CA.
        open_dir = os.path.join(self.w.path, "open-dir")
        os.makedirs(open_dir)
        os.chmod(open_dir, 0o1777)
        link = os.path.join(open_dir, "ca.pem")
        os.symlink(self.ca, link)
        r = self.login(self.pam.simple(self.args("ok", "ca_file=" + link)))
        self.expect(r, "PAM_SERVICE_ERR", "misconfigured",
                    "ca_file through a symlink in a world-writable directory", message="")
        t.ok(any(p == 3 and open_dir in x and "writable by group or others" in x
                 for p, x in r.logs), "the LOG_ERR line names the directory", r.log_text())
        # The same link in a root-only directory: followed (system CA links).
        safe_dir = os.path.join(self.w.path, "safe-dir")
        os.makedirs(safe_dir)
        os.symlink(self.ca, os.path.join(safe_dir, "ca.pem"))
        r = self.login(self.pam.simple(self.args("ok", "ca_file=%s/ca.pem" % safe_dir)))
        t.eq(r.auth, 0, "ca_file through a symlink in a root-only directory: followed")
        # A link in a root-only directory to a link in an open one: every
        # link of the chain counts, not only where it ends.
        os.symlink(link, os.path.join(safe_dir, "via-open.pem"))
        r = self.login(self.pam.simple(self.args("ok", "ca_file=%s/via-open.pem" % safe_dir)))
        self.expect(r, "PAM_SERVICE_ERR", "misconfigured",
                    "ca_file: a link to a link in a world-writable directory", message="")
        # The same through directory links: safe/d -> open/d -> real.
        real_dir = os.path.join(self.w.path, "real-dir")
        os.makedirs(real_dir)
        shutil.copy(self.ca, os.path.join(real_dir, "ca.pem"))
        os.symlink(real_dir, os.path.join(safe_dir, "d-direct"))
        r = self.login(self.pam.simple(self.args("ok", "ca_file=%s/d-direct/ca.pem" % safe_dir)))
        t.eq(r.auth, 0, "ca_file below a directory link between root-only directories: used")
        os.symlink(real_dir, os.path.join(open_dir, "d"))
        os.symlink(os.path.join(open_dir, "d"), os.path.join(safe_dir, "d-via-open"))
        r = self.login(self.pam.simple(self.args("ok", "ca_file=%s/d-via-open/ca.pem" % safe_dir)))
        self.expect(r, "PAM_SERVICE_ERR", "misconfigured",
                    "ca_file below a directory link that leads through a world-writable "
                    "directory", message="")
        # A directory owned by another user above the config file.
        user_dir = os.path.join(self.w.path, "user-dir")
        os.makedirs(user_dir)
        conf = os.path.join(user_dir, "pam_ropc.conf")
        with open(conf, "w") as f:
            f.write("token_endpoint = %s\n" % self.idp.url("ok"))
        os.chmod(conf, 0o600)
        os.chown(user_dir, 1, 1)
        r = self.login(self.pam.simple("config=%s ca_file=%s require_local_user=no"
                                       % (conf, self.ca)))
        self.expect(r, "PAM_SERVICE_ERR", "misconfigured",
                    "config file in a directory owned by uid 1", message="")
        os.chown(user_dir, 0, 0)
        os.chmod(user_dir, 0o775)
        r = self.login(self.pam.simple("config=%s ca_file=%s require_local_user=no"
                                       % (conf, self.ca)))
        self.expect(r, "PAM_SERVICE_ERR", "misconfigured",
                    "config file in a group-writable directory", message="")
        os.chmod(user_dir, 0o755)
        r = self.login(self.pam.simple("config=%s ca_file=%s require_local_user=no"
                                       % (conf, self.ca)))
        t.eq(r.auth, 0, "the same config file once the directory is root's alone: login")
        secret_dir = os.path.join(self.w.path, "secret-dir")
        os.makedirs(secret_dir)
        secret = os.path.join(secret_dir, "secret")
        with open(secret, "w") as f:
            f.write("s3cret\n")
        os.chmod(secret, 0o600)
        os.chmod(secret_dir, 0o777)
        r = self.login(self.pam.simple(self.args("ok", "client_id=box client_secret_file=" +
                                                 secret)))
        self.expect(r, "PAM_SERVICE_ERR", "misconfigured",
                    "secret file in a world-writable directory", message="")

    def case_trust_files(self):
        t = self.t
        ca = os.path.join(self.w.path, "ca-groupwritable.pem")
        with open(self.ca) as src, open(ca, "w") as dst:
            dst.write(src.read())
        os.chmod(ca, 0o664)
        svc = self.pam.simple(self.args("ok", "ca_file=" + ca))
        r = self.login(svc)
        self.expect(r, "PAM_SERVICE_ERR", "misconfigured", "group-writable ca_file", message="")
        t.ok(any(p == 3 and "ca_file" in x and "lets group or others write it" in x
                 for p, x in r.logs), "group-writable ca_file: LOG_ERR says why", r.log_text())
        os.chmod(ca, 0o644)
        r = self.login(svc)
        t.eq(r.auth, 0, "the same CA file, mode 644: accepted")
        svc = self.pam.simple(self.args("ok", "export_tokens=no"))
        r = self.login(svc)
        self.expect(r, "PAM_SERVICE_ERR", "misconfigured", "export_tokens=no (a typo)",
                    message="")
        t.ok("OAUTH2_ACCESS_TOKEN" not in r.env, "export_tokens=no: no token is exported", r.env)
        t.ok(any(p == 3 and 'unknown option "export_tokens"' in x and
                 "did you mean export_token?" in x for p, x in r.logs),
             "a mistyped key: LOG_ERR suggests the key meant", r.log_text())
        self.trust_file_paths()

    def case_network(self):
        t = self.t
        # A stalled IdP ends within timeout + 1 s.
        svc = self.pam.simple(self.args("stall", "timeout=2 connect_timeout=1"))
        r = self.login(svc)
        self.expect(r, "PAM_AUTHINFO_UNAVAIL", "unavailable", "stalled IdP", message="")
        if not self.valgrind:
            t.ok(r.elapsed < 3.0, "stalled IdP: returns within timeout + 1 s",
                 "took %.2fs" % r.elapsed)
        # A redirect is not followed.
        for code in ("301", "302", "307", "308"):
            svc = self.pam.simple(self.args("redirect" + code))
            before = len(self.idp.requests("ok"))
            r = self.login(svc)
            self.expect(r, "PAM_AUTHINFO_UNAVAIL", "unavailable", "redirect " + code,
                        message="", http=code)
            t.eq(len(self.idp.requests("ok")) - before, 0, "redirect %s not followed" % code)
        # A body over the cap.
        for scen in ("huge_body", "chunked_huge"):
            svc = self.pam.simple(self.args(scen))
            r = self.login(svc)
            self.expect(r, "PAM_AUTHINFO_UNAVAIL", "unavailable", scen)
            t.ok("256 KiB" in (r.field("detail") or ""), "%s: log says over the cap" % scen,
                 r.auth_line())
        # Refused connection.
        svc = self.pam.simple(self.args("ok").replace(":%d/" % self.idp.port, ":1/"))
        r = self.login(svc)
        self.expect(r, "PAM_AUTHINFO_UNAVAIL", "unavailable", "connection refused")

    def case_tls(self):
        t = self.t
        rogue = TestIdP(self.w.path, self.pki, name="rogue", cert="rogue")
        try:
            svc = self.pam.simple(self.args("ok").replace(":%d/" % self.idp.port,
                                                          ":%d/" % rogue.port))
            r = self.login(svc)
            self.expect(r, "PAM_AUTHINFO_UNAVAIL", "unavailable", "certificate from an unknown CA")
            t.ok("TLS" in (r.field("detail") or ""), "unknown CA: log says TLS failure",
                 r.auth_line())
            t.eq(len(rogue.requests()), 0, "unknown CA: no request (no password) was sent")
        finally:
            rogue.stop()
        # Without ca_file the system store does not know our test CA.
        svc = self.pam.simple(self.args("ok").replace("ca_file=%s " % self.ca, ""))
        r = self.login(svc)
        self.expect(r, "PAM_AUTHINFO_UNAVAIL", "unavailable", "test CA not in the system store")

    def case_config_errors(self):
        t = self.t
        bad = [
            ("http:// endpoint", "token_endpoint=http://127.0.0.1:%d/s/ok/token" % self.idp.port,
             "must be an https:// URL"),
            ("non-numeric timeout", "timeout=ten", "must be a whole number of seconds"),
            ("client_secret in pam.d", "client_secret=abc",
             "refused in pam.d arguments"),
            ("bad require_local_user", "require_local_user=maybe", "must be yes or no"),
            ("error_map to success", "error_map=success:Invalid", "unknown outcome"),
        ]
        for name, opt, why in bad:
            svc = self.pam.simple(self.args("ok", opt))
            before = len(self.idp.requests())
            r = self.login(svc)
            self.expect(r, "PAM_SERVICE_ERR", "misconfigured", name, message="")
            errs = [txt for p, txt in r.logs if p == 3 and txt.startswith("config:")]
            t.ok(any(why in e for e in errs), "%s: LOG_ERR line says %r" % (name, why),
                 r.log_text())
            t.eq(len(self.idp.requests()) - before, 0, "%s: zero requests" % name)
        # A world-readable config file holding a secret.
        conf = self.pam.config("client_id = box\nclient_secret = hunter22\n", mode=0o644)
        svc = self.pam.simple("token_endpoint=%s ca_file=%s require_local_user=no config=%s"
                              % (self.idp.url("ok"), self.ca, conf))
        r = self.login(svc)
        self.expect(r, "PAM_SERVICE_ERR", "misconfigured", "world-readable secret", message="")
        errs = [txt for p, txt in r.logs if p == 3]
        t.ok(any("readable by group or others" in e and "chmod 600" in e for e in errs),
             "world-readable secret: LOG_ERR says why and how to fix", r.log_text())
        t.ok("hunter22" not in r.stderr, "world-readable secret: the secret is not logged")
        # Unknown keys fail closed: in the pam.d arguments and in the file.
        before = len(self.idp.requests())
        svc = self.pam.simple(self.args("ok", "frobnicate=1"))
        r = self.login(svc)
        self.expect(r, "PAM_SERVICE_ERR", "misconfigured", "unknown pam.d option", message="")
        t.ok(any(p == 3 and 'unknown option "frobnicate" in pam.d arguments' in txt
                 for p, txt in r.logs), "unknown pam.d option: LOG_ERR line names it",
             r.log_text())
        conf = self.pam.config("scope = openid\nexport_tokens = no\n")
        svc = self.pam.simple("token_endpoint=%s ca_file=%s require_local_user=no config=%s"
                              % (self.idp.url("ok"), self.ca, conf))
        r = self.login(svc)
        self.expect(r, "PAM_SERVICE_ERR", "misconfigured", "unknown key in the file", message="")
        t.ok(any(p == 3 and 'unknown option "export_tokens" in %s line 2' % conf in txt and
                 "did you mean export_token?" in txt for p, txt in r.logs),
             "unknown key in the file: LOG_ERR names the file, the line and the nearest key",
             r.log_text())
        t.eq((len(self.idp.requests()) - before, r.env), (0, {}),
             "unknown keys: no request, nothing exported")
        # error_map from the admin wins over the built-in table.
        svc = self.pam.simple(self.args("keycloak_invalid",
                                        "error_map=locked:Invalid%20user"))
        conf = self.pam.config("error_map = locked:Invalid user credentials\n")
        svc = self.pam.simple("token_endpoint=%s ca_file=%s require_local_user=no config=%s"
                              % (self.idp.url("keycloak_invalid"), self.ca, conf))
        r = self.login(svc)
        self.expect(r, "PAM_MAXTRIES", "locked", "error_map", message=
                    "account locked at the identity provider")

    def case_other_functions(self):
        t = self.t
        svc = self.pam.simple(self.args("ok"), account=True)
        r = self.login(svc, args=["--no-auth", "--acct", "--chauthtok", "--setcred"],
                       answers=[])
        t.ok(r.data.get("acct") != 0, "account without authentication: not granted",
             r.data)
        t.eq(r.data.get("chauthtok"), PAM["PAM_AUTHTOK_ERR"], "password change: PAM_AUTHTOK_ERR")
        t.ok(any("identity provider" in m for m in r.shown("error")),
             "password change: the person is told where to change it", r.messages)
        t.eq(r.data.get("setcred"), 0, "setcred: PAM_SUCCESS")

    def case_lingering(self):
        """After pam_end, no copy of the password (typed or form-encoded)
        or of the access token may remain anywhere in the process's heap
        or anonymous memory: not in our buffers, not in libcurl's (wiping
        allocator), not in OpenSSL's (SSL_OP_CLEANSE_PLAINTEXT).

        The encoded password searched for is not encoded by the test: it is
        the password= value exactly as the IdP received it in a run without
        the scan (the encoding is deterministic), so a change of the
        module's encoding cannot make the scan look for the wrong bytes."""
        t = self.t

        def wire_password(scen, before):
            """The raw bytes of the one password= field of the one request
            since before, or None."""
            reqs = self.fresh_requests(scen, before)
            if len(reqs) != 1:
                return None
            body = base64.b64decode(reqs[0]["body_raw_b64"])
            vals = [f[len(b"password="):] for f in body.split(b"&")
                    if f.startswith(b"password=")]
            return vals[0] if len(vals) == 1 else None

        differs = []
        for scen in ("ok", "onelogin_locked", "entra_mfa", "html200"):
            svc = self.pam.simple(self.args(scen))
            for pw in ("correct horse battery staple", "pä ss&=+%w0rd😀 long enough"):
                before = len(self.idp.requests(scen))
                self.pam.run(svc, "alice", [pw])
                enc = wire_password(scen, before)
                if not t.ok(enc, "%s: the IdP received one password= value (%r)" % (scen, pw)):
                    continue
                differs.append(enc != pw.encode("utf-8"))
                before = len(self.idp.requests(scen))
                r = self.pam.run(svc, "alice", [pw], ["--scan-secrets"],
                                 extra_env={"PAMDRIVE_SCAN_ENCODED": enc.hex()})
                t.eq(wire_password(scen, before), enc,
                     "%s: the scan run sent the same encoded password as the run before"
                     % scen)
                scan = r.data.get("scan", {})
                t.diag("lingering copies after pam_end (%s, %r): %s" % (scen, pw, scan))
                t.eq(scan.get("canary"), 1, "heap scan sees a canary (the scan is not blind)")
                want_token = 0 if scen == "ok" else -1
                t.eq((scan.get("password"), scan.get("password_encoded"), scan.get("token")),
                     (0, 0, want_token),
                     "%s: no copy of the password or token left after pam_end" % scen)
        t.ok(any(differs), "lingering: the encoded password differs from the typed one "
             "for at least one password (the encoded needle is searched for)", differs)

    def case_enumeration(self):
        """An unknown user at the IdP and a wrong password look the same."""
        t = self.t
        seen = []
        for scen in ("entra_no_user", "entra_bad_password", "password",
                     "keycloak_invalid", "glewlwyd_denied"):
            svc = self.pam.simple(self.args(scen))
            r = self.login(svc, answers=["wrong password"])
            seen.append((r.auth, tuple(r.shown()), tuple(m["text"] for m in r.messages)))
        t.ok(len(set(seen)) == 1, "unknown IdP user and wrong password: same code, same "
             "messages, for every IdP", seen)

    def fault_servers(self):
        servers = {"main": self.idp}
        specs = {"wronghost": ("wronghost", ()), "expired": ("expired", ()),
                 "rogue": ("rogue", ()),
                 "tls11": ("server", ("--tls-min", "1.1", "--tls-max", "1.1")),
                 "silent": (None, ("--plain-tcp-mode", "accept_silent"))}
        for name, (cert, extra) in specs.items():
            servers[name] = TestIdP(self.w.path, self.pki, name="fault-" + name, cert=cert,
                                    extra=extra)
        return servers

    def case_fault_matrix(self):
        t = self.t
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fault-matrix.tsv")
        rows = [l.rstrip("\n").split("\t") for l in open(path, encoding="utf-8")
                if l.strip() and not l.startswith("#")]
        # tls11: OpenSSL's default security level (and a distribution's
        # MinProtocol) refuse TLS 1.1 whatever the module asks, which would
        # hide the loss of its own TLS 1.2 minimum.  The row's client runs
        # with a permissive config that leaves that minimum as the only
        # thing that can refuse.  Its one TLS 1.3 suite is only there to
        # show that the module's process really reads it.  (OpenSSL reads
        # OPENSSL_CONF with secure_getenv(): setuid callers such as sudo
        # ignore it, so a user cannot weaken the module this way.)
        suite13 = "TLS_CHACHA20_POLY1305_SHA256"
        conf = os.path.join(self.w.path, "openssl-permissive.cnf")
        with open(conf, "w") as f:
            f.write("openssl_conf = openssl_init\n[openssl_init]\nssl_conf = ssl_sect\n"
                    "[ssl_sect]\nsystem_default = system_default_sect\n"
                    "[system_default_sect]\nMinProtocol = TLSv1\n"
                    "CipherString = DEFAULT:@SECLEVEL=0\nCiphersuites = %s\n" % suite13)
        client_env = {"tls11": {"OPENSSL_CONF": conf}}
        servers = self.fault_servers()
        try:
            for case, server, scen, code, outcome, detail in rows:
                if server == "closed":
                    url = "https://127.0.0.1:1/s/ok/token"
                else:
                    url = servers[server].url(scen)
                env = client_env.get(server, {})
                setenv = [a for kv in env.items() for a in ("--setenv", "%s=%s" % kv)]
                if server == "tls11":
                    # The row means something only if, under the same
                    # config, a client without a minimum of its own gets
                    # TLS 1.1 from this server, and the module reads it.
                    import subprocess
                    p = subprocess.run(
                        ["openssl", "s_client", "-brief", "-verify_return_error",
                         "-connect", "127.0.0.1:%d" % servers[server].port, "-CAfile", self.ca],
                        stdin=subprocess.DEVNULL, capture_output=True, timeout=20,
                        env=dict(os.environ, **env))
                    out = (p.stdout + p.stderr).decode("utf-8", "replace")
                    t.ok(p.returncode == 0 and "Protocol version: TLSv1.1" in out and
                         "Verification: OK" in out,
                         "fault: %s: under the test's OpenSSL config a default client gets "
                         "TLS 1.1 (only the module's TLS 1.2 minimum can refuse)" % case,
                         "rc %d\n%s" % (p.returncode, out))
                    before = len(self.idp.requests("ok"))
                    r = self.login(self.pam.simple(self.args("ok")), args=setenv)
                    got = [(q["tls_version"], q.get("tls_cipher"))
                           for q in self.fresh_requests("ok", before)]
                    t.eq((r.auth, got), (0, [("TLSv1.3", suite13)]),
                         "fault: %s: the module's process reads that config (its TLS 1.3 "
                         "suite is the one used with the main IdP)" % case)
                args = self.args(scen, "timeout=3 connect_timeout=2").replace(
                    self.idp.url(scen), url)
                r = self.login(self.pam.simple(args), args=setenv)
                self.expect(r, code, outcome, "fault: " + case, message="")
                if detail:
                    t.ok(detail in (r.field("detail") or ""),
                         "fault: %s: detail says %r" % (case, detail), r.auth_line())
                if not self.valgrind:
                    t.ok(r.elapsed < 4.0, "fault: %s: returned within timeout + 1 s" % case,
                         "took %.2fs" % r.elapsed)
                t.ok("\x1b" not in r.auth_line() and "\r" not in r.auth_line(),
                     "fault: %s: log line holds no raw control character" % case)
        finally:
            for name, srv in servers.items():
                if name != "main":
                    srv.stop()

    def case_bad_input(self):
        """What the person and the admin can get wrong: each gives its
        documented code and, for the admin, a LOG_ERR line saying what to
        fix; nothing crashes, nothing reaches the IdP that should not."""
        t = self.t
        svc = self.pam.simple(self.args("ok"))
        # User names at and over the limit, with a newline, not UTF-8.
        users = [("u" * 256, 0), ("u" * 257, PAM["PAM_USER_UNKNOWN"]),
                 ("al\nice", PAM["PAM_USER_UNKNOWN"]), ("al\tice", PAM["PAM_USER_UNKNOWN"]),
                 (b"\xc3\x28", PAM["PAM_USER_UNKNOWN"]), ("\u00e9lodie", 0)]
        for user, code in users:
            before = len(self.idp.requests())
            r = self.login(svc, user=user)
            sent = len(self.idp.requests()) - before
            t.ok(r.auth == code and sent == (1 if code == 0 else 0),
                 "user name %r (%d bytes): code %d, %d request(s)"
                 % (user[:20], len(user), code, 1 if code == 0 else 0),
                 "auth %r, requests %d, %s" % (r.auth, sent, r.auth_line()))
        # Passwords at and over PAM_MAX_RESP_SIZE, with a newline, not UTF-8.
        for pw, ok in (("p" * 511, True), ("p" * 512, False)):
            before = len(self.idp.requests())
            r = self.login(svc, answers=[pw])
            sent = len(self.idp.requests()) - before
            t.ok((r.auth == 0) == ok and sent == (1 if ok else 0),
                 "password of %d bytes: %s" % (len(pw), "sent" if ok else "refused, not sent"),
                 "auth %r sent %d %s" % (r.auth, sent, r.auth_line()))
        pre = self.preset_service(self.args("ok", "use_first_pass"))
        for pw in ("two\nlines", "caf\xe9 latin-1"):
            before = len(self.idp.requests("ok"))
            raw = pw.encode("latin-1") if "\xe9" in pw else pw.encode()
            r = self.pam.run(pre, "alice", [], extra_env={"PAM_AUTHTOK": raw})
            reqs = self.fresh_requests("ok", before)
            body = base64.b64decode(reqs[0]["body_raw_b64"]) if reqs else b""
            sent = dict(urllib.parse.parse_qsl(body.decode("ascii"), encoding="latin-1"))
            t.ok(r.auth == 0 and sent.get("password", "").encode("latin-1") == raw,
                 "password %r arrives byte-exact" % pw, "auth %r body %r" % (r.auth, body))
        # The admin's mistakes.
        def expect_config_error(name, svc, why):
            before = len(self.idp.requests())
            r = self.login(svc)
            self.expect(r, "PAM_SERVICE_ERR", "misconfigured", name, message="")
            t.ok(any(p == 3 and why in txt for p, txt in r.logs),
                 "%s: LOG_ERR line says %r" % (name, why), r.log_text())
            t.eq(len(self.idp.requests()) - before, 0, "%s: zero requests" % name)

        def with_conf(text, mode=0o600, extra=""):
            conf = self.pam.config(text, mode=mode)
            return self.pam.simple("config=%s %s" % (conf, extra)), conf

        ep = "token_endpoint = %s\nca_file = %s\nrequire_local_user = no\n" % (
            self.idp.url("ok"), self.ca)
        svc, _ = with_conf("ca_file = %s\n" % self.ca)
        expect_config_error("missing token_endpoint", svc, "no token_endpoint")
        svc, _ = with_conf(ep.replace("https://", "http://"))
        expect_config_error("http:// token_endpoint", svc, "must be an https:// URL")
        svc, _ = with_conf(ep + "timeout = 10s\n")
        expect_config_error("non-numeric timeout", svc, "must be a whole number of seconds")
        svc, _ = with_conf(ep + "timeout = 5\ntimeout = 6\n")
        expect_config_error("duplicate key", svc, "timeout is given twice")
        svc, _ = with_conf(ep + "this line has no equals sign\n")
        expect_config_error("line without =", svc, "is not key = value")
        svc, conf = with_conf(ep + "#" * (10 * 1024 * 1024) + "\n")
        expect_config_error("10 MiB config file", svc, "more than the 65536 allowed")
        svc, conf = with_conf(ep, mode=0o664)
        expect_config_error("group-writable config file", svc, "chmod 644")
        svc, conf = with_conf(ep)
        os.chown(conf, 1, 1)
        expect_config_error("config file not owned by root", svc, "owned by uid 1")
        link = conf + ".link"
        os.chown(conf, 0, 0)
        os.symlink(conf, link)
        svc = self.pam.simple("config=" + link)
        expect_config_error("symlinked config file", svc, "symbolic link")
        svc = self.pam.simple("config=%s/does-not-exist.conf" % self.w.path)
        expect_config_error("missing explicit config file", svc, "does not exist")
        secret = self.pam.config("s3cret-value\n", mode=0o640)
        svc, _ = with_conf(ep + "client_id = box\nclient_secret_file = %s\n" % secret)
        expect_config_error("group-readable secret file", svc, "chmod 600")
        os.chmod(secret, 0o600)
        os.symlink(secret, secret + ".link")
        svc, _ = with_conf(ep + "client_id = box\nclient_secret_file = %s.link\n" % secret)
        expect_config_error("symlinked secret file", svc, "symbolic link")
        svc, _ = with_conf(ep + "client_id = box\nclient_secret_file = %s\n" % secret)
        r = self.login(svc)
        t.eq(r.auth, 0, "a mode 600 root-owned secret file is accepted")

    def run(self, cases):
        only = os.environ.get("ROPC_CASES")     # a developer's shortcut: case,case
        if only:
            cases = [c for c in cases if c in only.split(",")]
        for c in cases:
            try:
                getattr(self, "case_" + c)()
            except Exception as e:  # a crash of the harness is a failure
                import traceback
                self.t.ok(False, "case %s ran to the end" % c, traceback.format_exc())


def main():
    valgrind = os.environ.get("ROPC_VALGRIND") == "1"
    t = Tap("pam-valgrind" if valgrind else
            "pam-sanitize" if os.environ.get("ROPC_SANITIZE") == "1" else "pam")
    w = Workdir("ropc-pam-")
    s = None
    try:
        s = Suite(t, w, valgrind)
        if valgrind:
            s.OUTCOMES = [row for row in s.OUTCOMES if row[0] in (
                "password", "onelogin_locked", "entra_mfa", "http503", "html200",
                "glewlwyd_denied", "onelogin_not_found")]
            s.run(["success", "export_options", "outcomes", "refused_locally",
                   "config_errors", "network", "other_functions", "clean_handle", "identity",
                   "error_bearing_200"])
        else:
            # The heap scan reads raw mappings: under AddressSanitizer its
            # own interceptors refuse that (and ASan's allocator keeps freed
            # blocks in quarantine), so it runs in the plain layer only.
            sanitize = os.environ.get("ROPC_SANITIZE") == "1"
            s.run(["success", "export_options", "outcomes", "silent", "log_line",
                   "special_passwords", "injection", "request_shape", "refused_locally",
                   "first_pass", "network", "tls", "config_errors", "other_functions",
                   "enumeration", "fault_matrix", "bad_input", "environment_hazards",
                   "retries", "dns_blackhole", "state", "trust_files", "clean_handle",
                   "identity", "unprivileged", "refusal_memory", "urls", "trust_pins",
                   "ca_store", "error_bearing_200"] +
                  ([] if sanitize else ["lingering"]))
        if os.environ.get("ROPC_SANITIZE") == "1":
            t.ok(not s.pam.sanitizer_reports and s.pam.runs > 50,
                 "AddressSanitizer/UBSan/LeakSanitizer: no report in %d PAM runs"
                 % s.pam.runs, "\n\n".join("%s:\n%s" % r for r in s.pam.sanitizer_reports[:3]))
    finally:
        if s is not None:
            s.idp.stop()
            n = s.pam.cleanup_wrapper_dirs()
            if n:
                t.diag("removed %d pam_wrapper copy(ies) left in /tmp by ended processes" % n)
        w.cleanup()
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
