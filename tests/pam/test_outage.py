#!/usr/bin/env python3
"""PAM tests of outages (issue: outages and unprivileged callers): the
offline credential cache (offline_cache = yes) and the fail-fast breaker
(fail_fast), through the real libpam and the built module under
pam_wrapper, against test IdPs of their own that the test stops and
starts.  The breaker's state lives in /run/pam_ropc (shared by every
process on the host, as it must); the endpoints here are unique to the
run.  Output: TAP.

Environment: ROPC_BUILDDIR (default ./build), ROPC_CASES=a,b to run some.
"""

import http.server
import json
import os
import ssl
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from ropctest import PAM, Pam, Tap, TestIdP, Workdir, free_port, make_pki  # noqa: E402

PW = "correct horse"
FAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"


class Suite:
    def __init__(self, t, w):
        self.t = t
        self.w = w
        self.pki = make_pki(w.path)
        self.ca = os.path.join(self.pki, "ca.pem")
        self.pam = Pam(w.path)
        self.n = 0

    def idp(self, port=None):
        self.n += 1
        extra = ("--port", str(port)) if port else ()
        return TestIdP(self.w.path, self.pki, name="idp-%d" % self.n, extra=extra)

    def url(self, port, scenario):
        return "https://127.0.0.1:%d/s/%s/token" % (port, scenario)

    def service(self, url, extra="", timeout=3, connect_timeout=2):
        self.n += 1
        cache = os.path.join(self.w.path, "cache-%d" % self.n)
        return self.pam.simple("token_endpoint=%s ca_file=%s require_local_user=no timeout=%d "
                               "connect_timeout=%d cache_dir=%s %s"
                               % (url, self.ca, timeout, connect_timeout, cache, extra)), cache

    def login(self, svc, answers=(PW,), env=None):
        r = self.pam.run(svc, "alice", list(answers), extra_env=env)
        logs = r.log_text()
        self.t.ok(not [a for a in answers if len(a) >= 4 and a in logs],
                  "no password in any log line")
        return r

    def expect(self, r, code, outcome, name):
        self.t.eq((r.auth, r.field("outcome")), (PAM[code], outcome),
                  "%s: %s, outcome=%s" % (name, code, outcome))

    # ---- offline ----
    def case_offline(self):
        t = self.t
        port = free_port()
        idp = self.idp(port)
        url = self.url(port, "password")
        opts = "offline_cache=yes fail_fast=0 offline_max_failures=3 offline_lockout=300"
        svc, cache = self.service(url, opts)
        try:
            r = self.login(svc)
            self.expect(r, "PAM_SUCCESS", "success", "online login (stores the entry)")
            d = os.path.join(cache, "offline")
            names = [n for n in os.listdir(d) if n.endswith(".json")] if os.path.isdir(d) else []
            t.ok(len(names) == 1 and "alice" not in names[0], "one entry, named by a hash",
                 names)
            text = open(os.path.join(d, names[0])).read() if names else ""
            t.ok(PW not in text and '"$y$' in text, "the entry holds a yescrypt hash, no "
                 "password", text[:80])
        finally:
            idp.stop()
        r = self.login(svc)
        self.expect(r, "PAM_SUCCESS", "offline_success", "IdP down: offline login")
        t.ok(r.env.get("OAUTH2_OFFLINE") == "1" and "OAUTH2_ACCESS_TOKEN" not in r.env,
             "offline login: OAUTH2_OFFLINE=1, no token exported", r.env)
        t.ok(any(p == 5 and "outcome=offline_success" in x and "s old" in x for p, x in r.logs),
             "offline login: logged at LOG_NOTICE with the entry's age", r.log_text())
        r = self.login(svc, ["wrong password"])
        self.expect(r, "PAM_AUTH_ERR", "offline_refused", "IdP down: wrong password")
        for _ in range(2):
            self.login(svc, ["wrong password"])
        r = self.login(svc)
        self.expect(r, "PAM_AUTH_ERR", "offline_refused",
                    "3 wrong passwords: locked out offline, the right one refused")
        t.ok("locked out" in (r.field("detail") or ""), "lockout: the detail says so",
             r.auth_line())
        # An online success resets it; an online refusal deletes the entry.
        idp = self.idp(port)
        try:
            r = self.login(svc)
            self.expect(r, "PAM_SUCCESS", "success", "IdP back: online success")
            r = self.login(svc, ["wrong password"])
            self.expect(r, "PAM_AUTH_ERR", "invalid_credentials", "IdP back: wrong password")
            t.eq([n for n in os.listdir(d) if n.endswith(".json")], [],
                 "an online refusal deletes the entry at once")
        finally:
            idp.stop()
        r = self.login(svc)
        self.expect(r, "PAM_AUTHINFO_UNAVAIL", "unavailable", "IdP down, no entry: unavailable")

    def case_offline_answers(self):
        """The offline cache is for an IdP that cannot be reached or fails
        (5xx), never for one that answered: a 429 or a malformed 200 at the
        same URL stays unavailable, and the entry stays.  The 503 row is the
        control: the same server, the same entry, and offline does apply."""
        t = self.t
        port = free_port()
        idp = self.idp(port)
        svc, cache = self.service(self.url(port, "password"), "offline_cache=yes fail_fast=0")
        try:
            r = self.login(svc)
            self.expect(r, "PAM_SUCCESS", "success", "online login (stores the entry)")
        finally:
            idp.stop()
        d = os.path.join(cache, "offline")
        entries = sorted(n for n in os.listdir(d) if n.endswith(".json"))
        t.eq(len(entries), 1, "one offline entry stored")
        answer = {}
        seen = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(n)
                seen.append(self.path)
                code, body = answer["now"]
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(self.pki, "server.pem"),
                            os.path.join(self.pki, "server.key"))
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
        th = threading.Thread(target=srv.serve_forever, daemon=True)
        th.start()
        try:
            rows = (
                ("a 429", 429, b'{"error":"too_many_requests","error_description":"slow down"}',
                 "PAM_AUTHINFO_UNAVAIL", "unavailable"),
                ("a malformed 200", 200, b"[]", "PAM_AUTHINFO_UNAVAIL", "unavailable"),
                ("a 503 (the control)", 503, b"{}", "PAM_SUCCESS", "offline_success"),
            )
            for name, code, body, pam_code, outcome in rows:
                answer["now"] = (code, body)
                before = len(seen)
                r = self.login(svc)
                t.eq(len(seen) - before, 1, "%s: the IdP was asked once" % name)
                self.expect(r, pam_code, outcome, "IdP answers %s" % name)
                t.eq(sorted(n for n in os.listdir(d) if n.endswith(".json")), entries,
                     "%s: the offline entry is kept" % name)
        finally:
            srv.shutdown()
            srv.server_close()
            th.join(10)

    def case_offline_ttl(self):
        """The entry is valid for offline_ttl after the last online success
        (the clock moved from outside with libfaketime)."""
        t = self.t
        port = free_port()
        idp = self.idp(port)
        svc, cache = self.service(self.url(port, "ok"),
                                  "offline_cache=yes fail_fast=0 offline_ttl=600")
        try:
            r = self.login(svc)
            t.eq(r.auth, 0, "online login")
        finally:
            idp.stop()
        clock = os.path.join(self.w.path, "faketime.rc")
        ft = {"LD_PRELOAD": "libpam_wrapper.so:" + FAKETIME, "FAKETIME_TIMESTAMP_FILE": clock,
              "FAKETIME_NO_CACHE": "1"}
        for step, outcome in (("+500", "offline_success"), ("+700", "offline_refused")):
            with open(clock, "w") as f:
                f.write(step + "\n")
            r = self.login(svc, env=ft)
            t.eq(r.field("outcome"), outcome, "offline_ttl=600, clock %s s: %s" % (step, outcome))

    def case_offline_rules(self):
        """Offline, the rules are checked against the claims of the last
        online success (here require_scope against the granted scope)."""
        port = free_port()
        idp = self.idp(port)
        svc, cache = self.service(self.url(port, "ok"), "offline_cache=yes fail_fast=0")
        deny = self.pam.simple("token_endpoint=%s ca_file=%s require_local_user=no timeout=3 "
                               "cache_dir=%s offline_cache=yes fail_fast=0 "
                               "require_scope=admin" % (self.url(port, "ok"), self.ca, cache))
        try:
            self.login(svc)
        finally:
            idp.stop()
        r = self.login(deny)
        self.expect(r, "PAM_PERM_DENIED", "not_authorized",
                    "offline, a scope the last success did not grant")

    # ---- fail fast ----
    def case_fail_fast(self):
        t = self.t
        port = free_port()
        url = self.url(port, "ok")
        svc, _ = self.service(url, "fail_fast=3")
        r = self.login(svc)
        self.expect(r, "PAM_AUTHINFO_UNAVAIL", "unavailable", "nothing listens: unavailable")
        t0 = time.monotonic()
        r = self.login(svc)
        took = time.monotonic() - t0
        self.expect(r, "PAM_AUTHINFO_UNAVAIL", "unavailable", "within the window")
        t.ok("failing fast since" in (r.field("detail") or ""),
             "within the window: detail=\"failing fast since ...\"", r.auth_line())
        t.diag("fail fast: a login within the window took %.3f s" % took)
        time.sleep(3.2)
        idp = self.idp(port)
        try:
            r = self.login(svc)
            self.expect(r, "PAM_SUCCESS", "success", "after the window the IdP is asked again")
            r = self.login(svc)
            self.expect(r, "PAM_SUCCESS", "success", "a success cleared the breaker")
        finally:
            idp.stop()

    def case_fail_fast_fetches(self):
        """Not only the token request: discovery and the key set that find
        the IdP down open the breaker too."""
        t = self.t
        dead = free_port()
        self.n += 1
        common = ("client_id=box ca_file=%s require_local_user=no timeout=3 connect_timeout=2 "
                  "cache_dir=%s "
                  "fail_fast=3" % (self.ca, os.path.join(self.w.path, "cache-%d" % self.n)))
        svc = self.pam.simple("issuer=https://127.0.0.1:%d/o/rs256 %s" % (dead, common))
        r = self.login(svc)
        self.expect(r, "PAM_AUTHINFO_UNAVAIL", "unavailable", "discovery finds nothing: unavailable")
        t.ok("discovery" in (r.field("detail") or ""), "...and says discovery", r.auth_line())
        r = self.login(svc)
        t.ok("failing fast since" in (r.field("detail") or ""),
             "discovery found the IdP down: the next login fails fast", r.auth_line())
        idp = self.idp()
        try:
            iss = "https://127.0.0.1:%d/o/rs256" % idp.port
            svc = self.pam.simple("issuer=%s jwks_uri=https://127.0.0.1:%d/jwks "
                                  "token_check=id_token username_claim=preferred_username %s"
                                  % (iss, dead, common.replace("cache-", "cache-k")))
            r = self.login(svc)
            self.expect(r, "PAM_AUTHINFO_UNAVAIL", "unavailable",
                        "the key set cannot be fetched: unavailable")
            before = len(idp.requests())
            r = self.login(svc)
            t.ok("failing fast since" in (r.field("detail") or ""),
                 "the key set found the IdP down: the next login fails fast", r.auth_line())
            t.eq(len(idp.requests()) - before, 0, "failing fast: the IdP is not asked at all")
        finally:
            idp.stop()

    def case_half_open(self):
        """After the window one process probes (with the real timeout); the
        others arriving meanwhile still fail fast."""
        t = self.t
        idp = self.idp()
        url = self.url(idp.port, "stall")
        try:
            svc, _ = self.service(url, "fail_fast=2", timeout=2, connect_timeout=1)
            r = self.login(svc)
            self.expect(r, "PAM_AUTHINFO_UNAVAIL", "unavailable", "stalled IdP: times out")
            time.sleep(2.2)
            results = []

            def one():
                results.append(self.login(svc))
            ths = [threading.Thread(target=one) for _ in range(4)]
            for th in ths:
                th.start()
            for th in ths:
                th.join(60)
            fast = [r for r in results if "failing fast" in (r.field("detail") or "")]
            slow = [r for r in results if "timed out" in (r.field("detail") or "")]
            t.eq((len(slow), len(fast)), (1, 3),
                 "after the window: one probe waits the timeout, three fail fast")
        finally:
            idp.stop()

    def case_offline_fast(self):
        """While failing fast, the offline cache answers at once."""
        t = self.t
        port = free_port()
        idp = self.idp(port)
        svc, _ = self.service(self.url(port, "ok"), "offline_cache=yes fail_fast=30")
        try:
            self.login(svc)
        finally:
            idp.stop()
        self.login(svc)                  # opens the window
        t0 = time.monotonic()
        r = self.login(svc)
        took = time.monotonic() - t0
        self.expect(r, "PAM_SUCCESS", "offline_success", "failing fast: offline login")
        t.ok("failing fast" in (r.field("detail") or ""), "offline login says failing fast",
             r.auth_line())
        t.diag("offline login while failing fast: %.3f s" % took)

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
    t = Tap("outage-sanitize" if os.environ.get("ROPC_SANITIZE") == "1" else "outage")
    w = Workdir("ropc-outage-")
    s = None
    try:
        s = Suite(t, w)
        s.run(["offline", "offline_answers", "offline_ttl", "offline_rules", "fail_fast",
               "fail_fast_fetches", "half_open",
               "offline_fast"])
        if os.environ.get("ROPC_SANITIZE") == "1":
            t.ok(not s.pam.sanitizer_reports and s.pam.runs > 10,
                 "AddressSanitizer/UBSan/LeakSanitizer: no report in %d PAM runs"
                 % s.pam.runs, "\n\n".join("%s:\n%s" % r for r in s.pam.sanitizer_reports[:3]))
    finally:
        if s is not None:
            s.pam.cleanup_wrapper_dirs()
        w.cleanup()
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
