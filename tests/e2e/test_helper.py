#!/usr/bin/env python3
"""Tests of pam_ropc_helper(8): a PAM application run as a user who is not
root (as a screen locker is) logs that user in through the module, which
runs the setuid helper, which reads the root-only settings and asks the IdP
(or the offline cache).  Needs root (it makes users and a setuid file);
talks only to a test IdP on 127.0.0.1.  Output: TAP.

What it sets up, and takes down again:
- two local accounts, ropch<hex>a and ropch<hex>b (useradd; userdel at the
  end);
- a copy of the built helper, setuid root, in a directory of the run;
- every PAM run in a private mount namespace (unshare -m) where that
  directory is mounted over the directory the module runs the helper from
  (`make print-helper-path`), a directory of the run holding the root-only
  config is mounted over /etc/security (the helper reads
  /etc/security/pam_ropc.conf, nothing else), and /dev/log is a socket the
  test listens on (tests/e2e/devns.sh): the helper is setuid, so its log
  lines go to syslog, not through pam_wrapper.  Nothing of the host's /etc
  or /usr is changed;
- pamdrive and the built module under pam_wrapper, run as the user with
  setpriv, with the password on stdin.

Environment: ROPC_BUILDDIR (default ./build), ROPC_KEEP=1 keeps the temp dir.
"""

import hashlib
import os
import pwd
import re
import secrets
import shutil
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from ropctest import (BUILD, MODULE, PAM, PAMDRIVE, Result, Syslog, Tap, TestIdP,  # noqa: E402
                      Workdir, make_pki, wait_for)

HERE = os.path.dirname(os.path.abspath(__file__))
DEVNS = os.path.join(HERE, "devns.sh")
HELPER = os.path.join(BUILD, "pam_ropc_helper")
PW = "correct horse"        # the test IdP's "password" scenario takes only this
# The helper's exit statuses: the numbers of enum ropc_outcome (outcome.h).
STATUS = {"success": 0, "rejected_input": 5, "unavailable": 18}


def helper_path():
    p = subprocess.run(["make", "-s", "-C", BUILD, "print-helper-path"], capture_output=True,
                       text=True, timeout=60)
    return p.stdout.strip()


class Suite:
    def __init__(self, t, w):
        self.t = t
        self.w = w.path
        self.users = []
        self.pki = make_pki(self.w)
        self.ca = os.path.join(self.pki, "ca.pem")
        self.idp = TestIdP(self.w, self.pki)
        self.syslog = Syslog(os.path.join(self.w, "log.sock"))
        # A helper that is not setuid logs as the user.
        os.chmod(self.syslog.path, 0o666)
        os.makedirs(os.path.join(self.w, "olddev"))
        # The helper where the module looks for it, inside the namespace.
        self.target = helper_path()
        self.sbin = os.path.join(self.w, "sbin")
        os.makedirs(self.sbin, mode=0o755)
        self.helper = os.path.join(self.sbin, os.path.basename(self.target))
        shutil.copy(HELPER, self.helper)
        os.chown(self.helper, 0, 0)
        os.chmod(self.helper, 0o4755)
        # The settings, root-only, where the helper reads them.
        self.etc = os.path.join(self.w, "etc-security")
        os.makedirs(self.etc, mode=0o755)
        self.cache = os.path.join(self.w, "cache")
        self.svcdir = os.path.join(self.w, "services")
        os.makedirs(self.svcdir, mode=0o755)
        self.n = 0
        tag = secrets.token_hex(3)
        self.alice = self.add_user("ropch%sa" % tag)
        self.bob = self.add_user("ropch%sb" % tag)

    def add_user(self, name):
        p = subprocess.run(["useradd", "-M", "-N", "-s", "/usr/sbin/nologin", name],
                           capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            raise RuntimeError("useradd %s: %s" % (name, p.stderr))
        self.users.append(name)
        return name

    def cleanup(self):
        for u in self.users:
            subprocess.run(["userdel", u], capture_output=True, timeout=60)
        self.idp.stop()
        self.syslog.stop()

    def config(self, url, extra=""):
        path = os.path.join(self.etc, "pam_ropc.conf")
        with open(path, "w") as f:
            f.write("token_endpoint = %s\nca_file = %s\ncache_dir = %s\noffline_cache = yes\n"
                    "fail_fast = 0\ntimeout = 5\nconnect_timeout = 2\n%s"
                    % (url, self.ca, self.cache, extra))
        os.chmod(path, 0o600)

    def service(self, args=""):
        self.n += 1
        name = "ropc-helper-%d" % self.n
        with open(os.path.join(self.svcdir, name), "w") as f:
            f.write("auth required %s %s\naccount required %s %s\n"
                    % (MODULE, args, MODULE, args))
        return name

    def ns(self, user):
        """The prefix that runs a command as user in the test's namespace."""
        pw = pwd.getpwnam(user)
        script = ('mount --bind "$1" /etc/security && mount --bind "$2" "$3" && shift 3 && '
                  'exec sh "$@"')
        return ["unshare", "-m", "--propagation", "private", "sh", "-c", script, "ns",
                self.etc, self.sbin, os.path.dirname(self.target),
                DEVNS, os.path.join(self.w, "olddev"), self.syslog.path,
                "setpriv", "--reuid", str(pw.pw_uid), "--regid", str(pw.pw_gid),
                "--init-groups", "--"]

    def pam(self, svc, as_user, user=None, answers=(PW,), background=False):
        """pamdrive as as_user, for user (default as_user): a Result, or
        the Popen when background."""
        env = ["LD_PRELOAD=libpam_wrapper.so", "PAM_WRAPPER=1",
               "PAM_WRAPPER_SERVICE_DIR=" + self.svcdir, "PAM_WRAPPER_DEBUGLEVEL=3"]
        cmd = self.ns(as_user) + ["env", "-i", "PATH=/usr/bin:/bin"] + env + [
            PAMDRIVE, "--service", svc, "--user", user or as_user, "--acct"]
        stdin = "".join(a + "\n" for a in answers).encode()
        if background:
            # Files, not pipes: pam_wrapper's trace would fill a pipe.
            out = open(os.path.join(self.w, "bg.out"), "w+b")
            err = open(os.path.join(self.w, "bg.err"), "w+b")
            p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=out, stderr=err, cwd="/")
            p.stdin.write(stdin)
            p.stdin.close()
            p.files = (out, err)
            return p
        t0 = time.monotonic()
        p = subprocess.run(cmd, input=stdin, capture_output=True, timeout=120, cwd="/")
        return self.result(p.stdout, p.stderr, time.monotonic() - t0, p.returncode)

    @staticmethod
    def result(out, err, elapsed, rc):
        import json
        try:
            data = json.loads(out.decode())
        except ValueError:
            data = {"parse_error": out.decode("utf-8", "replace")}
        return Result(data, err.decode("utf-8", "replace"), elapsed, rc)

    def helper_lines(self, mark, want=1):
        """The helper's syslog lines since mark (waiting for want of them)."""
        try:
            wait_for(lambda: len([x for _, x in self.syslog.since(mark)
                                  if "pam_ropc_helper[" in x]) >= want, 10,
                     "the helper's log lines")
        except RuntimeError:
            pass
        return [(p, x) for p, x in self.syslog.since(mark) if "pam_ropc_helper[" in x]

    def auth_of(self, lines):
        got = [x for _, x in lines if "authentication outcome=" in x]
        return got[-1] if got else ""

    def expect(self, r, code, outcome, name):
        t = self.t
        t.eq(r.auth, PAM[code], name + ": " + code)
        line = r.auth_line()
        t.ok("outcome=%s " % outcome in line and "through pam_ropc_helper" in line,
             name + ": the module's line says outcome=%s, through the helper" % outcome,
             r.stderr[-3000:])
        t.ok(PW not in r.log_text(), name + ": no password in the module's log lines")

    # ------------------------------------------------------------------ cases
    def case_success(self):
        t = self.t
        self.config(self.idp.url("password"))
        svc = self.service()
        before = len(self.idp.requests())
        mark = self.syslog.mark()
        r = self.pam(svc, self.alice)
        self.expect(r, "PAM_SUCCESS", "success", "as the user, through the helper")
        t.eq(r.data.get("acct"), PAM["PAM_SUCCESS"],
             "through the helper: account management says yes for that login")
        lines = self.helper_lines(mark)
        line = self.auth_of(lines)
        t.ok("outcome=success " in line and 'user="%s"' % self.alice in line and
             'service="%s"' % svc in line,
             "the helper's own syslog line: outcome=success, the user, the caller's service",
             "\n".join(x for _, x in lines))
        reqs = self.idp.requests()[before:]
        t.ok(len(reqs) == 1 and reqs[0]["form"].get("username") == [self.alice],
             "the IdP got one request, for the user", repr(reqs))
        t.ok(not [k for k in r.env if "TOKEN" in k],
             "the helper exports no token", repr(r.env))
        t.ok(all(PW not in x for _, x in self.syslog.since(mark)),
             "no password in any syslog line")
        # The entry the offline cases use was written by the helper, as root.
        entries = [os.path.join(dp, f) for dp, _, fs in os.walk(self.cache) for f in fs
                   if "offline" in dp]
        t.ok(len(entries) == 1 and all(os.stat(e).st_uid == 0 and
                                       stat.S_IMODE(os.stat(e).st_mode) == 0o600
                                       for e in entries),
             "the helper stored the offline entry: root's, mode 0600", repr(entries))

    def case_wrong_password(self):
        t = self.t
        self.config(self.idp.url("password"))
        svc = self.service()
        mark = self.syslog.mark()
        r = self.pam(svc, self.alice, answers=("wrong horse",))
        self.expect(r, "PAM_AUTH_ERR", "invalid_credentials", "a wrong password")
        t.ok(r.elapsed >= 2.0, "a failure: the helper pauses 2 s before it answers "
             "(%.2f s)" % r.elapsed)
        t.ok("outcome=invalid_credentials " in self.auth_of(self.helper_lines(mark)),
             "a wrong password: the helper's line says invalid_credentials")

    def case_other_user(self):
        t = self.t
        self.config(self.idp.url("password"))
        svc = self.service()
        before = len(self.idp.requests())
        mark = self.syslog.mark()
        r = self.pam(svc, self.alice, user=self.bob)
        t.eq(r.auth, PAM["PAM_AUTHINFO_UNAVAIL"],
             "the other user's name, as the user: the module does not ask (unavailable)")
        t.ok("outcome=unavailable " in r.auth_line() and
             "not the caller's own account" in r.auth_line(),
             "...and its log line says why", r.auth_line())
        t.eq(len(self.idp.requests()) - before, 0, "the other user's name: no request")
        uid = pwd.getpwnam(self.alice).pw_uid
        # The helper run by hand, as the user, for the other user: the same.
        mark = self.syslog.mark()
        p = subprocess.run(self.ns(self.alice) + [self.target, self.bob, "manual"],
                           input=PW.encode(), capture_output=True, timeout=60)
        t.eq(p.returncode, STATUS["rejected_input"],
             "the helper run by hand for another user: exit status rejected_input")
        lines = self.helper_lines(mark)
        t.ok(any(p == 4 and "refused: uid %d asked about user \"%s\"" % (uid, self.bob) in x
                 for p, x in lines),
             "the helper run by hand for another user: refused and logged (LOG_WARNING)",
             "\n".join("<%d> %s" % l for l in lines))
        # Its own name, with the password in a file, not a pipe: refused.
        path = os.path.join(self.w, "pw-file")
        with open(path, "w") as f:
            f.write(PW)
        os.chmod(path, 0o644)
        with open(path, "rb") as f:
            p = subprocess.run(self.ns(self.alice) + [self.target, self.alice, "manual"],
                               stdin=f, capture_output=True, timeout=60)
        t.eq(p.returncode, STATUS["rejected_input"],
             "the password from a file, not a pipe: refused")
        # Settings from the caller are not taken: extra arguments are refused.
        p = subprocess.run(self.ns(self.alice) + [self.target, self.alice, "manual",
                                                  "token_endpoint=https://127.0.0.1:1/"],
                           input=PW.encode(), capture_output=True, timeout=60)
        t.eq(p.returncode, STATUS["rejected_input"], "arguments beyond USER SERVICE: refused")

    def case_proc(self):
        """While the helper waits for the IdP: no password in its argv or
        environment, and nothing of root left but the uid."""
        t = self.t
        self.config(self.idp.url("password", "delay=3"))
        svc = self.service()
        before = len(self.idp.requests())
        p = self.pam(svc, self.alice, background=True)
        seen = {}

        def find():
            for pid in os.listdir("/proc"):
                if not pid.isdigit():
                    continue
                try:
                    with open("/proc/%s/comm" % pid) as f:
                        if f.read().strip() != "pam_ropc_helper":
                            continue
                    with open("/proc/%s/cmdline" % pid, "rb") as f:
                        seen["cmdline"] = f.read()
                    with open("/proc/%s/environ" % pid, "rb") as f:
                        seen["environ"] = f.read()
                    with open("/proc/%s/status" % pid) as f:
                        seen["status"] = f.read()
                    return True
                except OSError:
                    continue
            return False
        # Look once the IdP has the request: the helper is then waiting for
        # the answer, long past its start (a look right after exec would
        # see it before it drops its privileges).
        try:
            wait_for(lambda: len(self.idp.requests()) > before, 20, "the helper's request")
            wait_for(find, 10, "the helper to run")
        except RuntimeError:
            pass
        p.wait(60)
        for f in p.files:
            f.seek(0)
        out, err = (f.read() for f in p.files)
        for f in p.files:
            f.close()
        r = self.result(out, err, 0, p.returncode)
        t.eq(r.auth, PAM["PAM_SUCCESS"], "a slow IdP: the login through the helper succeeds")
        t.ok("cmdline" in seen, "the helper was seen running")
        cmdline = seen.get("cmdline", b"")
        t.ok(cmdline.split(b"\0")[1:3] == [self.alice.encode(), svc.encode()] and
             PW.encode() not in cmdline,
             "the helper's /proc/PID/cmdline: user and service, no password", repr(cmdline))
        t.ok("environ" in seen and seen.get("environ") == b"",
             "the helper's /proc/PID/environ: empty", repr(seen.get("environ")))
        status = dict(l.split(":", 1) for l in seen.get("status", "").splitlines() if ":" in l)
        fields = {k: status.get(k, "").split() for k in
                  ("Uid", "Gid", "CapEff", "CapPrm", "CapBnd", "CapAmb", "NoNewPrivs",
                   "Groups")}
        t.ok(fields["Uid"] == ["0"] * 4 and fields["Gid"] == ["0"] * 4 and
             fields["Groups"] == [],
             "the helper runs with uid and gid 0 only (the caller cannot signal it)",
             repr(fields))
        t.ok(all(fields[k] == ["0000000000000000"] for k in ("CapEff", "CapPrm", "CapBnd",
                                                             "CapAmb")) and
             fields["NoNewPrivs"] == ["1"],
             "the helper holds no capability in any set, and no_new_privs", repr(fields))

    def case_offline(self):
        """The IdP goes away: the entry the helper stored logs the user in
        offline, through the helper again; a wrong password does not."""
        t = self.t
        dead = "https://127.0.0.1:%d/s/password/token" % self.idp.port
        self.idp.stop()
        self.config(dead)
        svc = self.service()
        mark = self.syslog.mark()
        r = self.pam(svc, self.alice)
        self.expect(r, "PAM_SUCCESS", "offline_success", "the IdP down: offline, through the "
                    "helper")
        t.eq(r.env.get("OAUTH2_OFFLINE"), "1", "offline through the helper: OAUTH2_OFFLINE=1")
        t.ok(not [k for k in r.env if "TOKEN" in k], "offline: no token")
        line = self.auth_of(self.helper_lines(mark))
        t.ok("outcome=offline_success " in line and "offline:" in line,
             "offline: the helper's line says offline_success and how old the entry is", line)
        r = self.pam(svc, self.alice, answers=("wrong horse",))
        self.expect(r, "PAM_AUTH_ERR", "offline_refused", "offline, a wrong password")
        r = self.pam(svc, self.bob)
        self.expect(r, "PAM_AUTHINFO_UNAVAIL", "unavailable", "offline, a user with no entry")

    def case_breaker(self):
        """The helper obeys the fail-fast state, and never changes it: its
        caller could slow it down to make any answer a timeout."""
        t = self.t
        from ropctest import Blackhole, breaker_forget
        bh = Blackhole()
        url = bh.url("/s/password/token?helper=%d" % os.getpid())
        try:
            breaker_forget(url)
            self.config(url)
            path = os.path.join(self.etc, "pam_ropc.conf")
            with open(path) as f:
                text = f.read().replace("fail_fast = 0\n", "fail_fast = 30\n")
            with open(path, "w") as f:
                f.write(text)
            r = self.pam(self.service(), self.alice)
            t.eq(r.auth, PAM["PAM_AUTHINFO_UNAVAIL"], "breaker: a blackholed IdP, unavailable")
            h = hashlib.sha256(url.encode()).hexdigest()
            t.ok(not os.path.exists("/run/pam_ropc/%s.down" % h),
                 "breaker: the helper did not open it")
            # Root opens it (the module in a root process); the helper obeys.
            rr = self.root_login(path)
            t.ok(os.path.exists("/run/pam_ropc/%s.down" % h), "breaker: opened by a root "
                 "login", rr)
            mark = self.syslog.mark()
            r = self.pam(self.service(), self.alice)
            line = self.auth_of(self.helper_lines(mark))
            t.ok(r.auth == PAM["PAM_AUTHINFO_UNAVAIL"] and "failing fast since" in line,
                 "breaker: then the helper fails fast", line)
        finally:
            bh.stop()
            breaker_forget(url)

    def root_login(self, conf):
        """One login as root through the module with conf, under
        pam_wrapper (no namespace needed)."""
        svc = self.service("config=%s" % conf)
        env = dict(os.environ, LD_PRELOAD="libpam_wrapper.so", PAM_WRAPPER="1",
                   PAM_WRAPPER_SERVICE_DIR=self.svcdir)
        p = subprocess.run([PAMDRIVE, "--service", svc, "--user", self.alice], env=env,
                           input=(PW + "\n").encode(), capture_output=True, timeout=60)
        return p.stdout.decode(errors="replace")

    def case_refused_arguments(self):
        """A pam.d argument the helper would not apply: no helper, no login."""
        t = self.t
        self.config(self.idp.url("password"))
        before = len(self.idp.requests())
        r = self.pam(self.service("allowed_groups=admins"), self.alice)
        t.eq(r.auth, PAM["PAM_AUTHINFO_UNAVAIL"],
             "a pam.d argument the helper would drop: PAM_AUTHINFO_UNAVAIL")
        t.ok(any(p == 3 and "allowed_groups" in x and "would not apply" in x for p, x in r.logs),
             "...with a LOG_ERR line naming the argument", r.log_text())
        t.eq(len(self.idp.requests()) - before, 0, "...and no request")
        # debug and minimum_uid are the module's own: the helper runs.
        r = self.pam(self.service("debug minimum_uid=1000"), self.alice)
        t.eq(r.auth, PAM["PAM_SUCCESS"], "debug and minimum_uid: applied here, the helper runs")

    def case_not_setuid(self):
        t = self.t
        self.config(self.idp.url("password"))
        os.chmod(self.helper, 0o755)
        try:
            mark = self.syslog.mark()
            r = self.pam(self.service(), self.alice)
        finally:
            os.chmod(self.helper, 0o4755)
        t.eq(r.auth, PAM["PAM_AUTHINFO_UNAVAIL"], "a helper that is not setuid: unavailable")
        t.ok(any("not setuid root" in x for _, x in r.logs),
             "...the module warns that it is not setuid root", r.log_text())
        t.ok(any("not installed setuid root" in x for _, x in self.helper_lines(mark)),
             "...and the helper says so in its own line")


def check_status_table(t):
    """The exit statuses of pam_ropc_helper(8) are enum ropc_outcome's
    numbers, and the names are those of outcome.c."""
    top = os.path.dirname(os.path.dirname(HERE))
    src = open(os.path.join(top, "src", "outcome.h")).read()
    start = src.index("enum ropc_outcome {")
    body = src[start:src.index("ROPC_OUT_COUNT", start)]
    enum = re.findall(r"^\s*(ROPC_OUT_\w+)", body, re.M)
    names = dict(re.findall(r'\[(ROPC_OUT_\w+)\] = \{ "(\w+)"',
                            open(os.path.join(top, "src", "outcome.c")).read()))
    man = open(os.path.join(top, "man", "pam_ropc_helper.8")).read()
    table = man[man.index(".TS"):man.index(".TE")]
    rows = re.findall(r"^(\d+)\t(\w+)\t", table, re.M)
    want = [(str(i), names.get(e, "?")) for i, e in enumerate(enum)]
    t.ok(rows == want and len(rows) == 21, "pam_ropc_helper(8): the EXIT STATUS table is the "
         "outcome enum, in order", "%r\n%r" % (rows, want))
    t.ok(all(STATUS[k] == int(n) for n, k in rows if k in STATUS),
         "the statuses this test expects are the table's")


CASES = ["success", "wrong_password", "other_user", "proc", "refused_arguments", "not_setuid",
         "breaker", "offline"]


def main():
    t = Tap("helper")
    if os.geteuid() != 0:
        t.ok(False, "test_helper.py must run as root (it makes users and a setuid file)")
        return t.done()
    for prog in (HELPER, PAMDRIVE, MODULE, "/usr/bin/unshare", "/usr/bin/setpriv"):
        if not os.path.exists(prog):
            t.ok(False, "%s exists" % prog)
            return t.done()
    check_status_table(t)
    w = Workdir("ropc-helper-")
    s = None
    try:
        s = Suite(t, w)
        if not os.path.isdir(os.path.dirname(s.target)):
            t.ok(False, "the helper's directory %s exists" % os.path.dirname(s.target))
            return t.done()
        want = os.environ.get("ROPC_CASES")
        for c in CASES:
            if want and c not in want.split(","):
                continue
            getattr(s, "case_" + c)()
    finally:
        if s is not None:
            s.cleanup()
        w.cleanup()
    t.ok(not re.search(r"^ropch[0-9a-f]{6}[ab]:", open("/etc/passwd").read(), re.M),
         "the test's users are gone")
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
