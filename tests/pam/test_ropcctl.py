#!/usr/bin/env python3
"""Tests of ropcctl(8), the admin's command: its usage errors and exit
codes, check (the settings as the module reads them, problems with file
and line, owners and modes, a service's pam.d arguments), cache status,
forget and flush (offline entries written by real logins through the
module under pam_wrapper, and the fail-fast state), --json, and that no
secret is ever printed.  Runs as root; a test IdP on 127.0.0.1.  Output:
TAP.  Environment: ROPC_BUILDDIR (default ./build).
"""

import json
import os
import pwd
import re
import secrets
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from ropctest import (BUILD, PAM, Pam, Tap, TestIdP, Workdir, breaker_forget,  # noqa: E402
                      free_port, make_pki)

ROPCCTL = os.path.join(BUILD, "ropcctl")
PW = "correct horse"


class Suite:
    def __init__(self, t, w):
        self.t, self.w = t, w.path
        self.pki = make_pki(self.w)
        self.ca = os.path.join(self.pki, "ca.pem")
        self.idp = TestIdP(self.w, self.pki)
        self.pam = Pam(self.w)
        self.secret = "s3cr3t-" + secrets.token_hex(8)
        self.pamd = os.path.join(self.w, "pam.d")
        os.makedirs(self.pamd)
        self.user = "ropcctl%s" % secrets.token_hex(3)
        p = subprocess.run(["useradd", "-M", "-N", "-s", "/usr/sbin/nologin", self.user],
                           capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError("useradd: " + p.stderr)
        self.cache = os.path.join(self.w, "cache")

    def cleanup(self):
        subprocess.run(["userdel", self.user], capture_output=True)
        self.idp.stop()

    def ctl(self, *args, config=None):
        cmd = [ROPCCTL] + (["--config", config] if config else []) + list(args)
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        self.t.ok(self.secret not in p.stdout + p.stderr and PW not in p.stdout + p.stderr,
                  "ropcctl %s: no secret and no password in the output" % " ".join(args))
        return p

    def conf(self, url, extra=""):
        return self.pam.config("token_endpoint = %s\nca_file = %s\nclient_id = box\n"
                               "client_secret = %s\ncache_dir = %s\noffline_cache = yes\n"
                               "timeout = 3\nconnect_timeout = 2\n%s"
                               % (url, self.ca, self.secret, self.cache, extra))

    # ------------------------------------------------------------------ cases
    def case_usage(self):
        t = self.t
        p = self.ctl("--help")
        t.ok(p.returncode == 0 and "ropcctl [--json]" in p.stdout and "cache status" in p.stdout,
             "--help: usage on stdout, exit 0")
        p = self.ctl("--version")
        t.ok(p.returncode == 0 and p.stdout.startswith("ropcctl (pam_ropc) "),
             "--version: exit 0", p.stdout)
        for args, what in ((("",), "an empty command"), ((), "no command"),
                           (("frobnicate",), "an unknown command"),
                           (("--bogus", "check"), "an unknown option"),
                           (("check", "--service"), "--service without a name"),
                           (("check", "--service", "../etc/passwd"), "a service name with /"),
                           (("cache",), "cache without a subcommand"),
                           (("cache", "forget"), "cache forget without a user"),
                           (("cache", "status", "extra"), "an extra argument")):
            p = self.ctl(*args)
            t.ok(p.returncode == 2 and p.stdout == "" and len(p.stderr.splitlines()) == 1 and
                 p.stderr.startswith("ropcctl: "),
                 "bad usage (%s): one line on stderr, exit 2" % what, p.stderr)

    def case_check(self):
        t = self.t
        good = self.conf(self.idp.url("ok"))
        p = self.ctl("check", config=good)
        t.eq(p.returncode, 0, "check, good settings: exit 0")
        t.ok("client_secret = <set, %d bytes>" % len(self.secret) in p.stdout,
             "check: the secret is shown as its size", p.stdout[:2000])
        t.ok("token_endpoint = %s" % self.idp.url("ok") in p.stdout and
             "offline_cache = yes" in p.stdout and "timeout = 3" in p.stdout and
             "minimum_uid = 1000" in p.stdout,
             "check: the effective settings, defaults included")
        t.ok("%s  root:root 0600" % good in p.stdout, "check: the config file's owner and mode",
             p.stdout[-1500:])
        bad = self.pam.config("token_endpoint = %s\nca_file = %s\n\nexport_tokens = no\n"
                              % (self.idp.url("ok"), self.ca))
        p = self.ctl("check", config=bad)
        t.eq(p.returncode, 1, "check, an unknown key: exit 1")
        t.ok("%s line 4" % bad in p.stdout and "error: config: " in p.stdout and
             "did you mean export_token" in p.stdout,
             "check: the problem with its file and line, and the nearest key", p.stdout[:1500])
        loose = self.pam.config("token_endpoint = %s\nclient_secret = %s\n"
                                % (self.idp.url("ok"), self.secret), mode=0o644)
        p = self.ctl("check", config=loose)
        t.ok(p.returncode == 1 and "0644" in p.stdout,
             "check: a secret in a world-readable file is a problem, and the mode is shown",
             p.stdout[:1500])
        p = self.ctl("--json", "check", config=bad)
        try:
            j = json.loads(p.stdout)
        except ValueError:
            j = {}
        t.ok(p.returncode == 1 and j.get("ok") is False and
             any("line 4" in x for x in j.get("lines", [{}])[0].get("problems", [])),
             "--json check: a JSON object, ok false, the problem listed", p.stdout[:800])
        # A service: the arguments of its pam_ropc lines, as the module reads them.
        mod = "/lib/x86_64-linux-gnu/security/pam_ropc.so"
        with open(os.path.join(self.pamd, "common-x"), "w") as f:
            f.write("auth [success=1 default=ignore] %s config=%s timeout=7\n" % (mod, good))
        with open(os.path.join(self.pamd, "svc"), "w") as f:
            f.write("# a comment\n@include common-x\naccount required pam_ropc.so config=%s "
                    "no_such=1\n" % good)
        p = subprocess.run([ROPCCTL, "--pam-dir", self.pamd, "check", "--service", "svc"],
                           capture_output=True, text=True, timeout=60)
        out = p.stdout
        t.ok(p.returncode == 1 and "common-x line 1: auth pam_ropc.so" in out and
             "timeout = 7" in out and "svc line 3: account pam_ropc.so" in out and
             "no_such" in out,
             "check --service: each pam_ropc line (through @include), its arguments applied, "
             "an unknown argument a problem (exit 1)", out[:3000])
        with open(os.path.join(self.pamd, "plain"), "w") as f:
            f.write("auth required pam_unix.so\n")
        p = subprocess.run([ROPCCTL, "--pam-dir", self.pamd, "check", "--service", "plain"],
                           capture_output=True, text=True, timeout=60)
        t.ok(p.returncode == 1 and "does not use pam_ropc.so" in p.stderr,
             "check --service of a service without the module: exit 1", p.stderr)

    def login(self, conf, user, password=PW):
        svc = self.pam.service(["auth required MODULE config=%s" % conf])
        return self.pam.run(svc, user, [password])

    def case_cache(self):
        t = self.t
        good = self.conf(self.idp.url("password"))
        r = self.login(good, self.user)
        t.eq(r.auth, PAM["PAM_SUCCESS"], "a login through the module stores an offline entry")
        dead_url = "https://127.0.0.1:%d/s/password/token" % free_port()
        p = self.ctl("cache", "status", config=good)
        t.ok(p.returncode == 0 and self.user in p.stdout and "age " in p.stdout and
             "0 failed" in p.stdout,
             "cache status: the user's entry, its age and failures", p.stdout)
        t.ok("$y$" not in p.stdout, "cache status: no hash")
        p = self.ctl("--json", "cache", "status", config=good)
        j = json.loads(p.stdout) if p.returncode == 0 else {}
        t.ok([e.get("user") for e in j.get("offline", [])] == [self.user] and
             j.get("fail_fast", {}).get("state") == "closed",
             "--json cache status: the entry, and fail fast closed", p.stdout)
        # The fail-fast state of a dead IdP.
        dead = self.conf(dead_url, "fail_fast = 30\n")
        try:
            self.pam.run(self.pam.service(["auth required MODULE config=%s fail_fast=30" % dead]),
                         self.user, [PW])
            p = self.ctl("cache", "status", config=dead)
            t.ok(p.returncode == 0 and "fail fast: OPEN" in p.stdout,
                 "cache status: fail fast open for a dead IdP", p.stdout)
        finally:
            breaker_forget(dead_url)
        p = self.ctl("cache", "forget", self.user, config=good)
        t.ok(p.returncode == 0 and "removed the offline entry of %s" % self.user in p.stdout,
             "cache forget USER: removed", p.stdout)
        p = self.ctl("cache", "status", config=good)
        t.ok(self.user not in p.stdout, "cache status after forget: no entry", p.stdout)
        p = self.ctl("cache", "forget", self.user, config=good)
        t.ok(p.returncode == 0 and "no offline entry" in p.stdout,
             "cache forget again: nothing to remove", p.stdout)
        r = self.login(good, self.user)
        p = self.ctl("cache", "flush", config=good)
        t.ok(p.returncode == 0 and "removed" in p.stdout, "cache flush", p.stdout)
        t.eq(os.listdir(os.path.join(self.cache, "offline")), [],
             "cache flush: the offline directory is empty")
        nobody = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                 ROPCCTL, "cache", "status"], capture_output=True, text=True)
        t.ok(nobody.returncode == 1 and "needs root" in nobody.stderr,
             "cache as a user who is not root: one line, exit 1", nobody.stderr)

    def case_login(self):
        """login: a real transaction through the service's stack."""
        t = self.t
        good = self.conf(self.idp.url("password"), "require_local_user = no\n")
        mod = os.path.join(BUILD, ".libs", "pam_ropc.so")
        with open(os.path.join(self.pamd, "ctl-login"), "w") as f:
            f.write("auth required %s config=%s fail_fast=0\naccount required %s config=%s "
                    "fail_fast=0\n" % (mod, good, mod, good))

        def login(user, password, *extra):
            return subprocess.run([ROPCCTL, "--pam-dir", self.pamd] + list(extra) +
                                  ["login", user, "--service", "ctl-login"],
                                  input=password + "\n", capture_output=True, text=True,
                                  timeout=60)
        p = login("alice", PW)
        out = p.stdout
        t.ok(p.returncode == 0 and "outcome: success" in out and
             "pam_authenticate: PAM_SUCCESS" in out and "pam_acct_mgmt: PAM_SUCCESS" in out,
             "login: outcome and PAM codes, exit 0", out + p.stderr)
        t.ok(re.search(r"authentication outcome=success code=PAM_SUCCESS user=\"alice\"", out)
             is not None, "login: the module's own log line", out)
        t.ok(re.search(r"^  OAUTH2_ACCESS_TOKEN=\S{6}\.\.\.\S{4} \(\d+ chars\)$", out, re.M)
             is not None and "OAUTH2_USER=alice" in out,
             "login: the PAM environment, the token cut to its ends", out)
        t.ok(PW not in out + p.stderr and "Password: " in p.stderr,
             "login: the prompt on the terminal side, the password nowhere in the output")
        p = login("alice", "wrong horse")
        t.ok(p.returncode == 1 and "outcome: invalid_credentials" in p.stdout and
             "PAM_AUTH_ERR" in p.stdout, "login, a wrong password: the outcome, exit 1",
             p.stdout)
        # The claims the rules looked at: ropcctl adds debug to the lines.
        iss = "https://127.0.0.1:%d/o/rs256" % self.idp.port
        oidc = self.pam.config("issuer = %s\nca_file = %s\nclient_id = box\n"
                               "client_secret = %s\ncache_dir = %s\nrequire_local_user = no\n"
                               "token_check = id_token\nusername_claim = preferred_username\n"
                               % (iss, self.ca, self.secret, os.path.join(self.w, "cache-l")))
        with open(os.path.join(self.pamd, "ctl-oidc"), "w") as f:
            f.write("auth [success=done default=die] %s config=%s fail_fast=0 # no debug\n"
                    % (mod, oidc))
        p = subprocess.run([ROPCCTL, "--pam-dir", self.pamd, "login", "alice", "--service",
                            "ctl-oidc"], input=PW + "\n", capture_output=True, text=True,
                           timeout=60)
        t.ok("outcome: success" in p.stdout and
             "verify: the claims the rules looked at: preferred_username=alice" in p.stdout,
             "login: the claims the rules looked at (ropcctl adds debug to the module's lines)",
             p.stdout[-3000:])
        t.eq(sorted(n for n in os.listdir("/tmp") if n.startswith("ropcctl.")), [],
             "login: the stack's copy in /tmp is gone")
        p = login("alice", PW, "--json")
        try:
            j = json.loads(p.stdout)
        except ValueError:
            j = {}
        tok = j.get("environment", {}).get("OAUTH2_ACCESS_TOKEN", "")
        t.ok(p.returncode == 0 and j.get("outcome") == "success" and
             j.get("authenticate") == "PAM_SUCCESS" and "chars)" in tok,
             "--json login: outcome, code and the cut token", p.stdout[:1500])

    def case_discover(self):
        t = self.t
        iss = "https://127.0.0.1:%d/o/rs256" % self.idp.port
        conf = self.pam.config("issuer = %s\nca_file = %s\nclient_id = box\nclient_secret = %s\n"
                               "cache_dir = %s\n" % (iss, self.ca, self.secret,
                                                      os.path.join(self.w, "cache-d")))
        p = self.ctl("discover", config=conf)
        out = p.stdout
        t.ok(p.returncode == 0 and "token_endpoint                 %s/token" % iss in out and
             "jwks_uri                       %s/jwks" % iss in out,
             "discover: the endpoints of the discovery document, exit 0", out + p.stderr)
        t.ok(re.search(r"kid \S+ +RSA 2048 bits, alg RS256", out) is not None and
             "fetched now" in out, "discover: the keys, kid, type, size, algorithm", out)
        pem = os.path.join(self.pki, "server.pem")
        der = subprocess.run("openssl x509 -in %s -pubkey -noout | openssl pkey -pubin "
                             "-outform der | openssl dgst -sha256 -binary | base64" % pem,
                             shell=True, capture_output=True, text=True).stdout.strip()
        t.ok("pin     sha256//%s" % der in out and "subject " in out and "expires " in out,
             "discover: the TLS peer, its pin as pinned_public_key takes it", out)
        p = self.ctl("--json", "discover", config=conf)
        j = json.loads(p.stdout) if p.returncode == 0 else {}
        t.ok(j.get("endpoints", {}).get("issuer") == iss and len(j.get("keys", [])) >= 1 and
             j.get("tls", {}).get("pin") == "sha256//" + der,
             "--json discover", p.stdout[:1500])
        p = self.ctl("discover", config=conf)
        t.ok("from the cache" in p.stdout, "discover again: the key set from the cache",
             p.stdout)
        dead = self.pam.config("issuer = https://127.0.0.1:%d/o/rs256\nca_file = %s\n"
                               "client_id = box\ncache_dir = %s\nconnect_timeout = 2\n"
                               % (free_port(), self.ca, os.path.join(self.w, "cache-e")))
        p = self.ctl("discover", config=dead)
        t.ok(p.returncode == 1 and "error: discovery" in p.stdout,
             "discover, nothing listens: the problem, exit 1", p.stdout)


def main():
    t = Tap("ropcctl")
    if os.geteuid() != 0:
        t.ok(False, "test_ropcctl.py must run as root")
        return t.done()
    if not os.access(ROPCCTL, os.X_OK):
        t.ok(False, "%s is built" % ROPCCTL)
        return t.done()
    w = Workdir("ropc-ctl-")
    s = None
    try:
        s = Suite(t, w)
        for c in ("usage", "check", "cache", "login", "discover"):
            try:
                getattr(s, "case_" + c)()
            except Exception as ex:
                t.ok(False, "case %s ran to the end" % c, repr(ex))
    finally:
        if s is not None:
            s.cleanup()
            s.pam.cleanup_wrapper_dirs()
        w.cleanup()
    try:
        pwd.getpwnam(s.user)
        gone = False
    except KeyError:
        gone = True
    t.ok(gone, "the test user is gone")
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
