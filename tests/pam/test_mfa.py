#!/usr/bin/env python3
"""PAM tests of the second factor (issue: MFA): the real libpam and the
built module under pam_wrapper, against the test IdP's MFA behaviours
(tests/idp/testidp.py, /o/<profile>/...): Okta's and Auth0's mfa_token
grant, a code as a form parameter (otp_param) or glued to the password
(otp_append), and the device authorization grant (RFC 8628) after an MFA
refusal or instead of the password.  Each case: the prompts, what reached
the IdP, the PAM code, the outcome and the log detail.  Output: TAP.

Environment: ROPC_BUILDDIR (default ./build), ROPC_CASES=a,b to run some.
"""

import os
import re
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from ropctest import PAM, Pam, Tap, TestIdP, Workdir, make_pki  # noqa: E402

PW = "correct horse"
CODE = "123456"
CLIENT = "pam-box"
SECRET = "mfa-client-secret-0123456789abcdef"


class Suite:
    def __init__(self, t, w):
        self.t = t
        self.w = w
        self.pki = make_pki(w.path)
        self.ca = os.path.join(self.pki, "ca.pem")
        self.idp = TestIdP(w.path, self.pki)
        self.pam = Pam(w.path)
        self.secret_conf = self.pam.config("client_secret = %s\n" % SECRET, mode=0o600)
        self.n = 0
        self.ssl = ssl.create_default_context(cafile=self.ca)

    def issuer(self, profile):
        return "https://127.0.0.1:%d/o/%s" % (self.idp.port, profile)

    def service(self, profile, extra=""):
        self.n += 1
        local = "" if "require_local_user=" in extra else "require_local_user=no "
        args = ("issuer=%s client_id=%s config=%s ca_file=%s %s"
                "timeout=5 cache_dir=%s %s" % (self.issuer(profile), CLIENT, self.secret_conf,
                                                self.ca, local, os.path.join(self.w.path,
                                                                             "cache-%d" % self.n),
                                                extra))
        return self.pam.simple(args.strip())

    def reqs(self, profile, endpoint="token"):
        return [r for r in self.idp.requests(profile) if r.get("endpoint") == endpoint]

    def login(self, svc, answers, user="alice", args=(), timeout=90):
        r = self.pam.run(svc, user, answers, args, timeout=timeout)
        logs = r.log_text()
        self.t.ok(not [a for a in answers if len(a) >= 4 and a in logs],
                  "no password or code in any log line")
        return r

    def prompts(self, r):
        return [m["text"] for m in r.messages if m["style"].startswith("prompt")]

    def expect(self, r, code, outcome, name, message=None):
        t = self.t
        t.eq(r.auth, PAM[code], "%s: %s" % (name, code))
        t.eq(r.field("outcome"), outcome, "%s: log says outcome=%s" % (name, outcome))
        if message is not None:
            t.eq(r.shown("error"), [message] if message else [],
                 "%s: person is shown %r" % (name, message or "nothing"))

    def control(self, path, form):
        req = urllib.request.Request("https://127.0.0.1:%d%s" % (self.idp.port, path),
                                     data=urllib.parse.urlencode(form).encode(),
                                     method="POST")
        return urllib.request.urlopen(req, context=self.ssl, timeout=10).read()

    # ---- cases ----
    def case_deny(self):
        """mfa = deny (the default): an MFA challenge is a refusal."""
        r = self.login(self.service("mfa_token"), [PW])
        self.expect(r, "PAM_CRED_INSUFFICIENT", "mfa_required", "mfa = deny",
                    message="multi-factor authentication is required for this account")

    def case_mfa_otp(self):
        """Okta direct authentication / Auth0: mfa_token, then the code."""
        t = self.t
        svc = self.service("mfa_token", "mfa=otp username_claim=preferred_username")
        before = len(self.reqs("mfa_token"))
        r = self.login(svc, [PW, CODE])
        self.expect(r, "PAM_SUCCESS", "success", "mfa = otp, right code", message="")
        t.eq(self.prompts(r), ["Password: ", "Verification code: "],
             "mfa = otp: password, then the code (echo off)")
        reqs = self.reqs("mfa_token")[before:]
        t.eq(len(reqs), 2, "mfa = otp: two token requests")
        if len(reqs) == 2:
            f = reqs[1]["form"]
            t.eq((f.get("grant_type"), f.get("otp"), bool(f.get("mfa_token"))),
                 (["http://auth0.com/oauth/grant-type/mfa-otp"], [CODE], True),
                 "mfa = otp: the second request is the mfa-otp grant with the code")
        t.ok("mfa-otp" in (r.field("detail") or ""), "mfa = otp: the detail names the step",
             r.auth_line())
        r = self.login(svc, [PW, "654321"])
        self.expect(r, "PAM_AUTH_ERR", "mfa_failed", "mfa = otp, wrong code",
                    message="multi-factor authentication failed")
        r = self.login(self.service("mfa_token+mfa_expired", "mfa=otp username_claim=preferred_username"), [PW, CODE])
        self.expect(r, "PAM_AUTH_ERR", "mfa_failed", "mfa = otp, expired mfa_token")
        r = self.login(self.service("mfa_token+mfa_other_user",
                                    "mfa=otp username_claim=preferred_username"), [PW, CODE])
        self.expect(r, "PAM_PERM_DENIED", "identity_mismatch",
                    "mfa = otp, the second step's token names another user")
        r = self.login(self.service("mfa_token+mfa_no_token", "mfa=otp username_claim=preferred_username"), [PW])
        self.expect(r, "PAM_CRED_INSUFFICIENT", "mfa_required",
                    "mfa = otp, an MFA refusal without mfa_token")
        r = self.login(svc, ["wrong password"])
        self.expect(r, "PAM_AUTH_ERR", "invalid_credentials",
                    "mfa = otp, wrong password: no code asked")
        t.eq(self.prompts(r), ["Password: "], "wrong password: no code prompt")

    def case_not_remembered(self):
        """With mfa other than deny, "MFA required" is a step: sudo's next
        try asks the IdP again."""
        t = self.t
        svc = self.service("mfa_token+tag_retry", "mfa=otp username_claim=preferred_username")
        before = len(self.reqs("mfa_token+tag_retry"))
        r = self.login(svc, [PW, "000000", PW, CODE], args=["--repeat", "2"])
        t.eq(r.data.get("auths"), [PAM["PAM_AUTH_ERR"], 0],
             "two tries: a wrong code, then the right one")
        t.eq(len(self.reqs("mfa_token+tag_retry")) - before, 4,
             "two tries: each asks the IdP (password, then code)")

    def case_otp_param(self):
        t = self.t
        for flag, name in (("otp_param", "otp"), ("otp_param_totp", "totp")):
            svc = self.service(flag, "otp_param=%s" % name)
            before = len(self.reqs(flag))
            r = self.login(svc, [PW, CODE])
            self.expect(r, "PAM_SUCCESS", "success", "otp_param=%s" % name, message="")
            reqs = self.reqs(flag)[before:]
            t.ok(len(reqs) == 1 and reqs[0]["form"].get(name) == [CODE] and
                 reqs[0]["form"].get("password") == [PW],
                 "otp_param=%s: one request, the code as %s, the password unchanged"
                 % (name, name), reqs and reqs[0]["form"])
            t.eq(self.prompts(r), ["Password: ", "Verification code: "],
                 "otp_param=%s: the code is always asked" % name)
            r = self.login(svc, [PW, "000000"])
            self.expect(r, "PAM_AUTH_ERR", "invalid_credentials",
                        "otp_param=%s, wrong code: the IdP cannot say which was wrong" % name)
            t.ok("otp_param" in (r.field("detail") or ""), "otp_param: the detail names it",
                 r.auth_line())
        # A name with no local account is asked the same: the prompts do
        # not tell which accounts exist.
        svc = self.service("otp_param", "otp_param=otp require_local_user=yes")
        r = self.login(svc, [PW, CODE], user="no-such-user-ropc")
        self.expect(r, "PAM_USER_UNKNOWN", "unknown_user", "otp_param, unknown local user")
        t.eq(self.prompts(r), ["Password: ", "Verification code: "],
             "otp_param, unknown local user: both prompts all the same")

    def case_otp_append(self):
        t = self.t
        for flag, extra, sent in (("otp_append", "otp_append=yes", PW + CODE),
                                  ("otp_append_colon", "otp_append=yes otp_separator=:",
                                   PW + ":" + CODE)):
            svc = self.service(flag, extra)
            before = len(self.reqs(flag))
            r = self.login(svc, [PW, CODE])
            self.expect(r, "PAM_SUCCESS", "success", "%s" % extra, message="")
            reqs = self.reqs(flag)[before:]
            t.ok(len(reqs) == 1 and reqs[0]["form"].get("password") == [sent],
                 "%s: the password sent is password, separator, code" % extra,
                 reqs and reqs[0]["form"].get("password"))

    def device_run(self, svc, user="alice", answers=("", ), password=True, act=None,
                   args=()):
        """A device login; act(user_code) runs in a thread once the
        module shows its instructions."""
        echo = os.path.join(self.w.path, "echo-%d" % time.monotonic_ns())
        done = threading.Event()
        seen = {}

        def watch():
            end = time.monotonic() + 60
            while time.monotonic() < end and not done.is_set():
                try:
                    with open(echo) as f:
                        text = f.read()
                except OSError:
                    text = ""
                m = re.search(r"enter the code (\S+)", text)
                if m:
                    seen["code"] = m.group(1)
                    if act:
                        act(m.group(1))
                    return
                time.sleep(0.05)
        th = threading.Thread(target=watch, daemon=True)
        th.start()
        ans = ([PW] if password else []) + list(answers)
        t0 = time.monotonic()
        r = self.login(svc, ans, user=user, args=list(args) + ["--echo-prompts", echo])
        r.took = time.monotonic() - t0
        done.set()
        th.join(5)
        r.user_code = seen.get("code")
        return r

    def case_device(self):
        """mfa = device after an MFA refusal (Entra's AADSTS50076)."""
        t = self.t
        base = "mfa=device username_claim=preferred_username"
        prof = "mfa_required_only+device_auto"
        before = len(self.reqs(prof))
        r = self.device_run(self.service(prof, base))
        self.expect(r, "PAM_SUCCESS", "success", "mfa = device, approved", message="")
        prompts = self.prompts(r)
        t.ok(len(prompts) == 2 and prompts[0] == "Password: " and
             prompts[1].endswith("Press Enter after approving: ") and r.user_code and
             r.user_code in prompts[1] and "/activate" in prompts[1],
             "mfa = device: the instructions (URI, user code) are the text of a prompt",
             prompts)
        polls = [q for q in self.reqs(prof)[before:]
                 if q["form"].get("grant_type") == ["urn:ietf:params:oauth:grant-type:device_code"]]
        t.ok(len(polls) >= 2, "mfa = device: the token endpoint is polled", len(polls))
        t.ok(re.search(r"polls=\d+ waited_ms=\d+", r.field("detail") or ""),
             "mfa = device: the detail has polls= and waited_ms=", r.auth_line())
        t.ok(r.env.get("OAUTH2_SUB", "").startswith("sub-"), "mfa = device: OAUTH2_SUB", r.env)
        r = self.device_run(self.service("mfa_required_only+device_auto_bob", base))
        self.expect(r, "PAM_PERM_DENIED", "identity_mismatch",
                    "mfa = device, approved by bob: not alice's login")
        r = self.device_run(self.service("mfa_required_only", base),
                            act=lambda code: self.control("/control/device",
                                                          {"user_code": code, "user": "alice",
                                                           "action": "deny",
                                                           "profile": "mfa_required_only"}))
        self.expect(r, "PAM_AUTH_ERR", "mfa_failed", "mfa = device, denied",
                    message="multi-factor authentication failed")
        t.ok("access_denied" in (r.field("detail") or ""), "denied: the detail says so",
             r.auth_line())
        r = self.device_run(self.service("mfa_required_only+device_short", base))
        self.expect(r, "PAM_AUTH_ERR", "mfa_failed", "mfa = device, never approved, code "
                    "expires in 10 s")
        r = self.device_run(self.service("mfa_required_only", base + " device_timeout=10"))
        self.expect(r, "PAM_AUTH_ERR", "mfa_failed", "mfa = device, never approved, "
                    "device_timeout=10")
        t.ok(r.took < 10 + 5, "device_timeout=10: the login ends within device_timeout + 5 s",
             "took %.1f s" % r.took)
        t.diag("device_timeout=10, never approved: %.1f s" % r.took)

    def case_slow_down(self):
        """slow_down raises the interval by 5 s (RFC 8628 §3.5), measured at
        the IdP."""
        t = self.t
        prof = "mfa_required_only+device_auto+device_slow_down"
        before = len(self.reqs(prof))
        r = self.device_run(self.service(prof, "mfa=device username_claim=preferred_username"))
        self.expect(r, "PAM_SUCCESS", "success", "slow_down, then approved")
        polls = [q for q in self.reqs(prof)[before:]
                 if q["form"].get("grant_type") == ["urn:ietf:params:oauth:grant-type:device_code"]]
        times = [q.get("time") for q in polls]
        if len(times) >= 2 and None not in times:
            gap = times[1] - times[0]
            t.ok(5.5 <= gap <= 8.0, "after slow_down the next poll waits interval + 5 s",
                 "gap %.2f s" % gap)
            t.diag("poll gaps: %s" % ["%.2f" % (b - a) for a, b in zip(times, times[1:])])
        else:
            t.ok(False, "slow_down: the polls carry their times", polls)

    def case_flow_device(self):
        """flow = device: no password at all."""
        t = self.t
        r = self.device_run(self.service("device_auto",
                                         "flow=device username_claim=preferred_username"),
                            password=False)
        self.expect(r, "PAM_SUCCESS", "success", "flow = device", message="")
        t.ok(len(self.prompts(r)) == 1 and "Password" not in self.prompts(r)[0],
             "flow = device: one prompt, no password", self.prompts(r))

    def case_probing(self):
        """flow = device shows a name with no local account the same
        instructions; a remembered "MFA required" of an mfa = deny line does
        not stop a line with a second factor."""
        t = self.t
        svc = self.service("device_auto", "flow=device username_claim=preferred_username "
                           "require_local_user=yes")
        r = self.device_run(svc, user="no-such-user-ropc", password=False)
        self.expect(r, "PAM_USER_UNKNOWN", "unknown_user", "flow = device, unknown local user")
        t.ok(len(self.prompts(r)) == 1 and "enter the code" in self.prompts(r)[0],
             "flow = device, unknown local user: the same instructions are shown",
             self.prompts(r))
        self.n += 1
        base = ("issuer=%s client_id=%s config=%s ca_file=%s require_local_user=no timeout=5 "
                "cache_dir=%s" % (self.issuer("mfa_token+tag_lines"), CLIENT, self.secret_conf,
                                  self.ca, os.path.join(self.w.path, "cache-%d" % self.n)))
        svc = self.pam.service(["auth optional MODULE " + base,
                                "auth required MODULE " + base + " mfa=otp try_first_pass "
                                "username_claim=preferred_username"])
        r = self.login(svc, [PW, CODE])
        t.eq(r.auth, 0, "an mfa = deny line's remembered MFA refusal does not stop the "
             "mfa = otp line after it")

    def case_device_deadline(self):
        """A poll that the IdP answers slowly does not carry the login past
        device_timeout (each request is bounded by what is left)."""
        t = self.t
        self.n += 1
        prof = "device_auto+tag_slowpoll"
        args = ("issuer=%s client_id=%s config=%s ca_file=%s require_local_user=no "
                "timeout=30 cache_dir=%s flow=device device_timeout=10 "
                "username_claim=preferred_username token_endpoint=%s/token?delay=25"
                % (self.issuer(prof), CLIENT, self.secret_conf, self.ca,
                   os.path.join(self.w.path, "cache-%d" % self.n), self.issuer(prof)))
        r = self.device_run(self.pam.simple(args), password=False)
        self.expect(r, "PAM_AUTH_ERR", "mfa_failed", "slow polls, device_timeout=10")
        t.ok(r.took < 10 + 5, "slow polls: the login ends within device_timeout + 5 s",
             "took %.1f s" % r.took)

    def case_qr(self):
        """The QR code in the prompt decodes back to verification_uri_complete."""
        t = self.t
        r = self.device_run(self.service("mfa_required_only+device_auto",
                                         "mfa=device username_claim=preferred_username"))
        prompt = (self.prompts(r) or [""])[-1]
        try:
            # pamdrive's JSON gives each byte of the prompt as one
            # character: put the UTF-8 back together.
            prompt = prompt.encode("latin-1").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            pass
        rows = [l for l in prompt.split("\n") if l and set(l) <= set(" \u2580\u2584\u2588")]
        t.ok(len(rows) > 10, "the prompt holds a QR code in half blocks", prompt[:200])
        if len(rows) <= 10:
            return
        width = max(len(l) for l in rows)
        grid = []
        for l in rows:
            l = l.ljust(width)
            top = [c in "\u2580\u2588" for c in l]
            bottom = [c in "\u2584\u2588" for c in l]
            grid += [top, bottom]
        # The module draws light modules as blocks (see src/qr.c) or dark
        # ones: try both, the quiet zone tells which.
        pbm = os.path.join(self.w.path, "qr.pbm")
        decoded = set()
        for invert in (False, True):
            scale = 4
            lines = []
            for row in grid:
                px = " ".join(("1" if (v != invert) else "0") for v in row for _ in range(scale))
                lines += [px] * scale
            with open(pbm, "w") as f:
                f.write("P1\n%d %d\n%s\n" % (width * scale, len(grid) * scale, "\n".join(lines)))
            p = subprocess.run(["zbarimg", "--quiet", "--raw", pbm], capture_output=True,
                               text=True)
            if p.returncode == 0:
                decoded.add(p.stdout.strip())
        uri = [l for l in prompt.split("\n") if "/activate" in l]
        want = "%s/activate?user_code=%s" % (self.issuer("mfa_required_only+device_auto"),
                                              r.user_code)
        t.ok(want in decoded, "zbarimg reads verification_uri_complete from the prompt's QR "
             "code", "decoded %r, want %r, lines %r" % (decoded, want, uri))
        r = self.device_run(self.service("mfa_required_only+device_auto",
                                         "mfa=device device_qr=no "
                                         "username_claim=preferred_username"))
        t.ok(not any("\u2588" in p or "\xe2\x96\x88" in p for p in self.prompts(r)),
             "device_qr=no: no QR code", self.prompts(r))

    def case_config(self):
        t = self.t
        for extra, why in (("mfa=device", "needs username_claim"),
                           ("mfa=otp", "needs username_claim"),
                           ("flow=device", "needs username_claim"),
                           ("otp_param=otp otp_append=yes", "exclude each other"),
                           ("otp_param=otp extra_param=otp=1", "sent twice"),
                           ("mfa=sometimes", "must be deny, otp or device")):
            r = self.login(self.service("mfa_token", extra), [PW])
            self.expect(r, "PAM_SERVICE_ERR", "misconfigured", extra)
            t.ok(any(p == 3 and why in x for p, x in r.logs), "%s: LOG_ERR says %r" % (extra, why),
                 r.log_text())

    def run(self, cases):
        only = os.environ.get("ROPC_CASES")
        if only:
            cases = [c for c in cases if c in only.split(",")]
        for c in cases:
            try:
                getattr(self, "case_" + c)()
            except Exception:  # a crash of the harness is a failure
                import traceback
                self.t.ok(False, "case %s ran to the end" % c, traceback.format_exc())


def main():
    t = Tap("mfa-sanitize" if os.environ.get("ROPC_SANITIZE") == "1" else "mfa")
    w = Workdir("ropc-mfa-")
    s = None
    try:
        s = Suite(t, w)
        s.run(["deny", "mfa_otp", "not_remembered", "otp_param", "otp_append", "device",
               "slow_down", "flow_device", "qr", "config", "probing", "device_deadline"])
        if os.environ.get("ROPC_SANITIZE") == "1":
            t.ok(not s.pam.sanitizer_reports and s.pam.runs > 10,
                 "AddressSanitizer/UBSan/LeakSanitizer: no report in %d PAM runs"
                 % s.pam.runs, "\n\n".join("%s:\n%s" % r for r in s.pam.sanitizer_reports[:3]))
    finally:
        if s is not None:
            s.idp.stop()
            s.pam.cleanup_wrapper_dirs()
        w.cleanup()
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
