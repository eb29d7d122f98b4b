#!/usr/bin/env python3
"""End-to-end tests: the built pam_ropc.so behind the REAL sshd and the REAL
sudo, against a real IdP (Glewlwyd) and the scriptable test IdP, all on
127.0.0.1.  Output: TAP (tests/lib/ropctest.Tap).  Run as root:

    python3 tests/e2e/test_e2e.py          (ROPC_BUILDDIR defaults to ./build)

What it sets up, all of it removed at the end (try/finally, atexit, and on
SIGTERM/SIGINT/SIGHUP), and checked to be gone by the last TAP check:
- a temp dir (/run/ropc-tests/ropc-e2e-*: the module refuses files below a
  directory others may write, such as /tmp) holding every file below unless noted;
- Glewlwyd (tests/idp/glewlwyd.sh) and the test IdP (tests/idp/testidp.py);
- for the outage case, a blackhole (ropctest.Blackhole: a listener whose
  full queue makes the kernel drop every SYN) and the breaker's state for
  it in /run/pam_ropc, removed again;
- sshd (Debian's openssh-server) on a free 127.0.0.1 port with its own
  sshd_config, host key and PidFile, started in the foreground (-D -e)
  under pam_wrapper through a symlink named after its PAM service (sshd uses
  the basename of argv[0] as the service name), so no /etc/pam.d file and
  nothing of /etc/ssh is used.  /run/sshd (privilege separation) is made
  when missing and removed again;
- the module's log lines: pam_wrapper prints pam_syslog lines on stderr
  only while PAM_WRAPPER_DEBUGLEVEL is in the environment, and sshd runs
  keyboard-interactive PAM in a child that empties `environ` first, which
  loses them (the test shows this).  logshim.c (built here with cc and
  preloaded before libpam_wrapper.so) keeps the log path from load time and
  appends every line to a file;
- local accounts: ropce2e-<hex> (shadow "*"), ropce2e-<hex>-b (shadow "!"),
  and the Glewlwyd users (alice, bob, carol, dora) only when they do not exist;
  only the accounts this run created are removed (userdel -r);
- for sudo (setuid, so no pam_wrapper): /etc/pam.d/ropc-e2e-<hex> that uses
  the module by absolute path, and /etc/sudoers.d/ropc-e2e-<hex> (checked
  with visudo) with `Defaults:<user> pam_service=ropc-e2e-<hex>` and a rule
  that lets the test users run only /usr/bin/printenv and /usr/bin/id as
  root.  sudo runs as the test user (setpriv), with the password on stdin
  (-S), in a private mount namespace (unshare -m, devns.sh) whose /dev/log
  is a socket this test listens on, for the module's and sudo's log lines;
- ssh runs with SSH_ASKPASS (+ SSH_ASKPASS_REQUIRE=force, DISPLAY): the
  password is read from a mode-600 file and never appears in argv (the Nth
  prompt of one login from FILE.N when the test wrote one: a second factor);
- the module's cache_dir for the OpenID Connect (MFA) cases: a directory in
  the temp dir, made by the module.

Second factor (mfa = otp, the Okta-style mfa_token flow of the test IdP's
/o/mfa_token profile: issuer=, token_check=id_token): ssh keyboard-interactive
with the right code and a wrong one (the prompts the person saw, the requests
the IdP got), ssh's password method (sshd answers the module's code prompt
with the password: refused), and sudo, without -p so that its prompts are
the ones a person sees, with the right code and a wrong code at each of its
tries; they make the table's MFA rows.

Every outcome's behaviour in ssh and in sudo goes to BUILDDIR/ssh-sudo-table.md
(and into the TAP diagnostics); ROPC_WRITE_TABLE=1 writes the committed copy,
tests/e2e/ssh-sudo-table.md, instead.  Environment: ROPC_BUILDDIR, ROPC_KEEP=1
keeps the temp dir (the final check then reports it), CC (default cc).
"""

import atexit
import concurrent.futures
import hashlib
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from ropctest import (MODULE, TOP, Blackhole, Syslog, Tap, TestIdP, Workdir,  # noqa: E402
                      breaker_forget, free_port, make_pki, wait_for)

HERE = os.path.dirname(os.path.abspath(__file__))
GLEWLWYD = os.path.join(TOP, "tests", "idp", "glewlwyd.sh")
DEVNS = os.path.join(HERE, "devns.sh")
SHIM_SRC = os.path.join(HERE, "logshim.c")
# The table goes to the build directory on every run; ROPC_WRITE_TABLE=1
# refreshes the committed copy in the source tree.
TABLE = (os.path.join(HERE, "ssh-sudo-table.md") if os.environ.get("ROPC_WRITE_TABLE") == "1"
         else os.path.join(os.environ.get("ROPC_BUILDDIR", os.path.join(HERE, "..", "..", "build")),
                           "ssh-sudo-table.md"))
SSHD, SSH, SUDO = "/usr/sbin/sshd", "/usr/bin/ssh", "/usr/bin/sudo"
LOOP = "127.0.0.1"
METHODS = ("password", "keyboard-interactive")
PROMPT = "PROMPT:"
IDP_DOWN_TIMEOUT = 3      # the module's timeout in the IdP-down case (s)
DOWN_MARGIN = 2.0         # what ssh may add to it (key exchange, sshd)
TEST_PW = "correct horse"  # what the test IdP's `password` scenario accepts
JUNK = "\b\n\r\x7fINCORRECT"   # sshd's stand-in password (auth-pam.c fake_password)
PARALLEL = 20
OUTAGE_LOGINS = 50        # the outage case: 50 parallel logins, then 50 blackholed
OUTAGE_CONNECT = 2        # its connect_timeout (s)

# The outcome table: outcome, PAM code, test IdP scenario (None: a closed
# port), the message the module gives the person (None: none).
OUTCOMES = [
    ("success", "PAM_SUCCESS", "ok", None),
    ("invalid_credentials", "PAM_AUTH_ERR", "password", None),
    ("mfa_required", "PAM_CRED_INSUFFICIENT", "onelogin_mfa",
     "multi-factor authentication is required for this account"),
    ("locked", "PAM_MAXTRIES", "onelogin_locked", "account locked at the identity provider"),
    ("suspended", "PAM_PERM_DENIED", "onelogin_suspended",
     "account disabled at the identity provider"),
    ("password_expired", "PAM_AUTHTOK_EXPIRED", "onelogin_expired",
     "password expired; change it at the identity provider"),
    ("access_denied", "PAM_PERM_DENIED", "onelogin_unauthorized",
     "not allowed to use this service"),
    ("misconfigured", "PAM_SERVICE_ERR", "rfc_invalid_client", None),
    ("unavailable", "PAM_AUTHINFO_UNAVAIL", None, None),
]

# What sudo 1.9 does with each PAM code (plugins/sudoers/auth/pam.c): it
# calls pam_authenticate again after PAM_AUTH_ERR, PAM_AUTHINFO_UNAVAIL,
# PAM_MAXTRIES and PAM_PERM_DENIED (up to passwd_tries, default 3), and
# stops at once with "PAM authentication error: <pam_strerror>" on anything
# else.  The module remembers an account-level refusal (locked, suspended,
# access denied, unavailable) for the transaction: sudo's later tries get
# the same answer at once, with no prompt and no request to the IdP.
# (exit code, password prompts, tries = log lines, IdP requests, what sudo shows)
SORRY = ["Sorry, try again.", "Sorry, try again.", "sudo: 3 incorrect password attempts"]
SUDO_EXPECT = {
    "success": (0, 1, 1, 1, []),
    "invalid_credentials": (1, 3, 3, 3, SORRY),
    "mfa_required": (1, 1, 1, 1, ["sudo: PAM authentication error: Insufficient credentials "
                                  "to access authentication data",
                                  "sudo: a password is required"]),
    "locked": (1, 1, 3, 1, SORRY),
    "suspended": (1, 1, 3, 1, SORRY),
    "password_expired": (1, 1, 1, 1, ["sudo: PAM authentication error: Authentication token "
                                      "expired", "sudo: a password is required"]),
    "access_denied": (1, 1, 3, 1, SORRY),
    "misconfigured": (1, 1, 1, 1, ["sudo: PAM authentication error: Error in service module",
                                   "sudo: a password is required"]),
    "unavailable": (1, 1, 3, 0, SORRY),   # a closed port: no request arrives
}

# Second factor (mfa = otp) against the test IdP's Okta-style profile: the
# right password answers 403 mfa_required + mfa_token, then the mfa-otp grant
# with the code completes the login (tests/idp/testidp.py, "MFA").
MFA_PROFILE = "mfa_token"
MFA_CODE = "123456"            # the test IdP's one-time code
MFA_WRONG = "654321"
MFA_CLIENT = "pam-ropc-e2e"
MFA_GRANT = "http://auth0.com/oauth/grant-type/mfa-otp"
MFA_MSG = "multi-factor authentication failed"
# Rows of the table after OUTCOMES: (row, PAM code).
MFA_ROWS = [("mfa = otp (right code)", "PAM_SUCCESS"), ("mfa_failed", "PAM_AUTH_ERR")]

FIELD_RE = r'\b%s=("((?:[^"\\]|\\.)*)"|\S+)'


def field(line, name):
    m = re.search(FIELD_RE % re.escape(name), line or "")
    if not m:
        return None
    return m.group(2) if m.group(2) is not None else m.group(1)


def run(cmd, timeout=60, check=False, **kw):
    """subprocess.run with a timeout always, output captured as text."""
    kw.setdefault("stdin", subprocess.DEVNULL)
    p = subprocess.run(cmd, capture_output=True, timeout=timeout, text=True, **kw)
    if check and p.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(cmd), p.returncode,
                                                   (p.stdout + p.stderr)[-2000:]))
    return p


def write_file(path, text, mode=0o600):
    """Write atomically (tmp + rename), root-owned, with mode."""
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, mode)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def proc_table():
    """{pid: (ppid, uid, starttime, state)} of every process."""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
            rest = st[st.rindex(")") + 2:].split()
            with open("/proc/%s/status" % d) as f:
                uid = next(int(l.split()[1]) for l in f if l.startswith("Uid:"))
            out[int(d)] = (int(rest[1]), uid, int(rest[19]), rest[0])
        except (OSError, ValueError, StopIteration, IndexError):
            continue
    return out


def descendants(pid, table=None):
    table = table or proc_table()
    kids, todo = [], [pid]
    while todo:
        p = todo.pop()
        for c, (pp, _, _, _) in table.items():
            if pp == p and c not in kids:
                kids.append(c)
                todo.append(c)
    return kids


def alive(pid):
    """True if pid exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            st = f.read()
        return st[st.rindex(")") + 2:].split()[0] != "Z"
    except (OSError, ValueError):
        return False


def cmdline_has(text):
    """pids whose command line contains text (not ours)."""
    hits = []
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == os.getpid():
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                cl = f.read().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        if text in cl and alive(int(d)):
            hits.append((int(d), cl.strip()[:200]))
    return hits


def one_line(text, user_names=()):
    """A program's output as one table cell."""
    lines = [l.strip() for l in text.replace(PROMPT, "\n").splitlines() if l.strip()]
    out = " / ".join(lines)
    for u in user_names:
        out = out.replace(u, "<user>")
    return out.replace("|", "\\|")


# --------------------------------------------------------------------------
class State:
    """Everything the run creates, and how it all goes away."""

    def __init__(self):
        self.w = None
        self.users_created = []     # (name, uid)
        self.etc_files = []
        self.sshd = None            # Popen
        self.sshd_pids = set()      # every sshd process seen (listener's tree)
        self.sshd_service = None
        self.idp = None
        self.gdir = None
        self.glewlwyd_pid = None
        self.syslog = None
        self.run_sshd_made = False
        self.cleaned = False
        self.notes = []

    def note(self, text):
        self.notes.append(text)

    # -- processes
    def remember_sshd_tree(self):
        if self.sshd is not None and self.sshd.poll() is None:
            tbl = proc_table()
            self.sshd_pids.update([self.sshd.pid] + descendants(self.sshd.pid, tbl))

    def stop_sshd(self):
        if self.sshd is None:
            return
        self.remember_sshd_tree()
        tbl = proc_table()
        kids = {p: tbl[p][2] for p in descendants(self.sshd.pid, tbl) if p in tbl}
        if self.sshd.poll() is None:
            self.sshd.terminate()
            try:
                self.sshd.wait(10)
            except subprocess.TimeoutExpired:
                self.sshd.kill()
                self.sshd.wait(5)
        # Sessions still running outlive the listener: end them, by pid,
        # only while the pid is still the same process (start time).
        for pid, start in kids.items():
            info = proc_table().get(pid)
            if info and info[2] == start:
                try:
                    os.kill(pid, signal.SIGTERM)
                except OSError:
                    pass
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(alive(p) for p in kids):
            time.sleep(0.05)
        for pid, start in kids.items():
            info = proc_table().get(pid)
            if info and info[2] == start:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass

    def cleanup(self):
        if self.cleaned:
            return
        self.cleaned = True
        errors = []

        def step(what, fn):
            try:
                fn()
            except Exception as e:  # keep cleaning
                errors.append("%s: %s" % (what, e))

        step("sshd", self.stop_sshd)
        if self.idp is not None:
            step("test IdP", self.idp.stop)
        if self.gdir is not None and os.path.isdir(self.gdir):
            step("Glewlwyd", lambda: run([GLEWLWYD, "stop", self.gdir], timeout=60))
        if self.syslog is not None:
            step("syslog listener", self.syslog.stop)
        for path in reversed(self.etc_files):
            step("remove " + path, lambda p=path: os.path.lexists(p) and os.unlink(p))
        for name, uid in self.users_created:
            step("userdel " + name, lambda n=name, u=uid: self.remove_user(n, u))
        step("pam_wrapper dirs", self.remove_pwrap_dirs)
        if self.run_sshd_made:
            step("/run/sshd", lambda: os.rmdir("/run/sshd"))
        if self.w is not None:
            step("temp dir", self.w.cleanup)
        for e in errors:
            print("# cleanup: " + e, flush=True)

    @staticmethod
    def remove_user(name, uid):
        # Processes of an account this run created are this run's.
        for pid, (_, puid, _, _) in proc_table().items():
            if uid >= 0 and puid == uid:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        p = run(["userdel", "-r", name], timeout=60)
        if p.returncode not in (0, 12):   # 12: home dir already gone
            p = run(["userdel", "-f", "-r", name], timeout=60)
            if p.returncode not in (0, 12):
                raise RuntimeError(p.stderr.strip())

    def pwrap_dirs(self):
        """pam_wrapper's /tmp/pam.? copies of our service dir (sshd's
        per-connection processes end with _exit and leave theirs)."""
        out = []
        if not self.sshd_service:
            return out
        for d in os.listdir("/tmp"):
            if re.fullmatch(r"pam\.[0-9A-Za-z]", d):
                path = os.path.join("/tmp", d)
                if os.path.exists(os.path.join(path, self.sshd_service)):
                    out.append(path)
        return out

    def remove_pwrap_dirs(self):
        dirs = self.pwrap_dirs()
        if dirs:
            print("# cleanup: %d pam_wrapper config dir(s) (/tmp/pam.?) left by sshd "
                  "processes that end with _exit(), removed" % len(dirs), flush=True)
        for path in dirs:
            try:
                with open(os.path.join(path, "pid")) as f:
                    pid = int(f.read().strip() or 0)
            except (OSError, ValueError):
                pid = 0
            if pid and alive(pid) and pid not in self.sshd_pids:
                continue
            shutil.rmtree(path, ignore_errors=True)

    def leftovers(self):
        """What the run left behind (after cleanup)."""
        bad = []
        if self.sshd is not None and alive(self.sshd.pid):
            bad.append("sshd listener %d" % self.sshd.pid)
        for pid in sorted(self.sshd_pids):
            if alive(pid):
                bad.append("sshd process %d" % pid)
        if self.idp is not None and self.idp.proc.poll() is None:
            bad.append("test IdP %d" % self.idp.proc.pid)
        if self.glewlwyd_pid and alive(self.glewlwyd_pid):
            bad.append("glewlwyd %d" % self.glewlwyd_pid)
        if self.w is not None:
            for pid, cl in cmdline_has(self.w.path):
                bad.append("process %d: %s" % (pid, cl))
        uids = {u for _, u in self.users_created}
        for pid, (_, uid, _, state) in proc_table().items():
            if uid in uids:
                bad.append("process %d (state %s) of a test user" % (pid, state))
        names = [n for n, _ in self.users_created]
        for n in names:
            try:
                pwd.getpwnam(n)
                bad.append("user %s" % n)
            except KeyError:
                pass
        for f in ("/etc/passwd", "/etc/shadow", "/etc/group", "/etc/gshadow", "/etc/subuid",
                  "/etc/subgid"):
            try:
                with open(f) as fh:
                    for line in fh:
                        if line.split(":", 1)[0] in names:
                            bad.append("%s: %s" % (f, line.split(":", 1)[0]))
            except OSError:
                pass
        for path in self.etc_files:
            if os.path.lexists(path):
                bad.append(path)
        for path in self.pwrap_dirs():
            bad.append("pam_wrapper dir " + path)
        if self.run_sshd_made and os.path.exists("/run/sshd"):
            bad.append("/run/sshd (made by this run)")
        if self.w is not None and os.path.exists(self.w.path):
            bad.append("temp dir %s%s" % (self.w.path,
                                          " (ROPC_KEEP=1)" if os.environ.get("ROPC_KEEP") == "1"
                                          else ""))
        with open("/proc/self/mountinfo") as f:
            if "ropc-e2e-dev" in f.read():
                bad.append("the test's /dev tmpfs is mounted in the host namespace")
        return bad


STATE = State()


def on_signal(signum, frame):
    raise SystemExit(128 + signum)


# --------------------------------------------------------------------------
class E2E:
    def __init__(self, t):
        self.t = t
        self.st = STATE
        self.rid = secrets.token_hex(3)
        self.tag = "ropc-e2e-" + self.rid            # sudo's service, sudoers file
        self.svc = "ropc-e2e-%s-sshd" % self.rid     # sshd's service (argv[0])
        self.user = "ropce2e-" + self.rid            # shadow "*"
        self.user_bang = "ropce2e-%s-b" % self.rid   # shadow "!"
        self.ghost = "ropce2e-%s-ghost" % self.rid   # never created
        self.secrets = set()       # every password/token/secret to keep out of logs
        self.table = {o[0]: {} for o in OUTCOMES}
        self.table.update({row: {} for row, _ in MFA_ROWS})
        self.mfa_secret = "e2e-" + secrets.token_hex(16)
        self.secrets.add(self.mfa_secret)
        self.figures = {}
        self.nssh = 0

    # ---------------------------------------------------------------- setup
    def setup(self):
        t, st = self.t, self.st
        st.w = Workdir("ropc-e2e-")
        self.W = st.w.path
        for d in ("home", "ssh", "sshd", "sshd/bin", "sshd/pam.d", "conf", "olddev"):
            os.makedirs(os.path.join(self.W, d), mode=0o755, exist_ok=True)

        # The log shim.
        self.shim = os.path.join(self.W, "logshim.so")
        p = run([os.environ.get("CC", "cc"), "-shared", "-fPIC", "-O2", "-Wall", "-o", self.shim,
                 SHIM_SRC], timeout=120)
        if not t.ok(p.returncode == 0, "the log shim builds (cc)", p.stderr):
            raise RuntimeError("cannot build logshim.c")

        # IdPs.
        self.pki = make_pki(self.W)
        self.ca = os.path.join(self.pki, "ca.pem")
        st.idp = self.idp = TestIdP(self.W, self.pki)
        st.gdir = self.gdir = os.path.join(self.W, "glewlwyd")
        p = run([GLEWLWYD, "start", self.gdir], timeout=120)
        if os.path.exists(os.path.join(self.gdir, "env.json")):
            with open(os.path.join(self.gdir, "env.json")) as f:
                self.g = json.load(f)
            st.glewlwyd_pid = int(self.g["GLEWLWYD_PID"])
        if not t.ok(p.returncode == 0 and hasattr(self, "g"), "Glewlwyd starts on loopback",
                    (p.stdout + p.stderr)[-2000:]):
            raise RuntimeError("Glewlwyd did not start")
        t.ok(self.g["TOKEN_ENDPOINT"].startswith("https://127.0.0.1:") and
             self.idp.url("ok").startswith("https://127.0.0.1:"),
             "both IdPs are on 127.0.0.1 over HTTPS")
        self.secrets.update([self.g["CLIENT_SECRET"], self.g["DEMO_PASSWORD"],
                             self.g["SPECIAL_PASSWORD"], self.g["DISABLED_PASSWORD"]])

        # Accounts.
        self.add_user(self.user, "*")
        self.add_user(self.user_bang, "!")
        for key in ("DEMO_USER", "DISABLED_USER", "SPECIAL_USER"):
            name = self.g[key]
            try:
                pwd.getpwnam(name)
                t.diag("local account %s exists already: used, not removed" % name)
            except KeyError:
                self.add_user(name, "*")
        try:
            pwd.getpwnam(self.ghost)
            raise RuntimeError("%s exists" % self.ghost)
        except KeyError:
            pass
        shadow = {}
        with open("/etc/shadow") as f:
            for line in f:
                parts = line.split(":")
                shadow[parts[0]] = parts[1]
        t.ok(shadow.get(self.user) == "*" and shadow.get(self.user_bang) == "!",
             "test accounts made with no usable local password (shadow * and !)",
             {k: shadow.get(k) for k in (self.user, self.user_bang)})

        self.setup_sshd()
        self.setup_sudo()

    def add_user(self, name, shadow):
        home = os.path.join(self.W, "home", name)
        p = run(["useradd", "-m", "-d", home, "-s", "/bin/sh", "-p", shadow,
                 "-c", "pam_ropc e2e test", name], timeout=60)
        if p.returncode != 0:
            raise RuntimeError("useradd %s: %s" % (name, p.stderr))
        try:
            uid = pwd.getpwnam(name).pw_uid
        except KeyError:
            uid = -1
        self.st.users_created.append((name, uid))

    # sshd ---------------------------------------------------------------
    def setup_sshd(self):
        t, st = self.t, self.st
        d = os.path.join(self.W, "sshd")
        if not os.path.isdir("/run/sshd"):
            os.makedirs("/run/sshd", mode=0o755)
            st.run_sshd_made = True
        self.hostkey = os.path.join(d, "ssh_host_ed25519_key")
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "ropc-e2e", "-f",
             self.hostkey], timeout=60, check=True)
        # The PAM service: pam_wrapper's service dir, never /etc/pam.d.
        self.svcdir = os.path.join(d, "pam.d")
        self.sshd_conf = os.path.join(self.W, "conf", "sshd-module.conf")
        mod = os.path.realpath(MODULE)
        with open(os.path.join(self.svcdir, self.svc), "w") as f:
            f.write("# pam_ropc e2e: sshd's service (through pam_wrapper)\n"
                    "auth     required  %s config=%s\n"
                    "account  required  %s config=%s\n"
                    "session  required  pam_permit.so\n"
                    "password required  %s config=%s\n"
                    % (mod, self.sshd_conf, mod, self.sshd_conf, mod, self.sshd_conf))
        st.sshd_service = self.svc
        self.link = os.path.join(d, "bin", self.svc)
        os.symlink(SSHD, self.link)
        self.shimlog = os.path.join(d, "module.log")
        self.sshd_log = os.path.join(d, "sshd.stderr")
        self.pidfile = os.path.join(d, "sshd.pid")
        self.sshd_cfg = os.path.join(d, "sshd_config")
        self.conf_glewlwyd(self.sshd_conf)
        env = {
            "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
            "LANG": "C",
            "LD_PRELOAD": "%s libpam_wrapper.so" % self.shim,
            "PAM_WRAPPER": "1",
            "PAM_WRAPPER_SERVICE_DIR": self.svcdir,
            "PAM_WRAPPER_DEBUGLEVEL": "2",
            "ROPC_E2E_SYSLOG": self.shimlog,
        }
        for attempt in range(3):
            self.port = free_port()
            with open(self.sshd_cfg, "w") as f:
                f.write(SSHD_CONFIG.format(port=self.port, hostkey=self.hostkey,
                                           pidfile=self.pidfile))
            p = run([self.link, "-t", "-f", self.sshd_cfg], timeout=30, env=env)
            if not t.ok(p.returncode == 0, "sshd -t accepts the test's sshd_config",
                        p.stdout + p.stderr):
                raise RuntimeError("sshd_config refused")
            logf = open(self.sshd_log, "a")
            st.sshd = subprocess.Popen([self.link, "-D", "-e", "-f", self.sshd_cfg],
                                       stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
                                       env=env, cwd="/")
            logf.close()
            want = "Server listening on %s port %d." % (LOOP, self.port)
            try:
                wait_for(lambda: st.sshd.poll() is not None or want in self.read(self.sshd_log),
                         20, "sshd to listen")
            except RuntimeError:
                pass
            if st.sshd.poll() is None and want in self.read(self.sshd_log):
                break
            st.stop_sshd()
            st.sshd = None
        t.ok(st.sshd is not None and st.sshd.poll() is None,
             "sshd listens on 127.0.0.1:%d (foreground, own config, host key, PidFile)"
             % self.port, self.read(self.sshd_log)[-2000:])
        if st.sshd is None:
            raise RuntimeError("sshd did not start")
        with open(self.hostkey + ".pub") as f:
            pub = f.read().split()
        self.known_hosts = os.path.join(self.W, "ssh", "known_hosts")
        with open(self.known_hosts, "w") as f:
            f.write("[%s]:%d %s %s\n" % (LOOP, self.port, pub[0], pub[1]))
        self.askpass = os.path.join(self.W, "ssh", "askpass")
        with open(self.askpass, "w") as f:
            f.write('#!/bin/sh\n'
                    '# SSH_ASKPASS for test_e2e.py: the password from a mode-600 file;\n'
                    '# the Nth prompt of a login gets PASSFILE.N instead when it exists\n'
                    '# (a second factor).\n'
                    '[ -z "${ROPC_E2E_ASKLOG:-}" ] || printf "%s\\n" "$1" >> "$ROPC_E2E_ASKLOG"\n'
                    'f=$ROPC_E2E_PASSFILE\n'
                    'printf x >> "$f.count"\n'
                    'n=$(wc -c < "$f.count")\n'
                    '[ ! -f "$f.$n" ] || f=$f.$n\n'
                    'exec cat -- "$f"\n')
        os.chmod(self.askpass, 0o700)

    @staticmethod
    def read(path, start=0):
        try:
            with open(path, "rb") as f:
                f.seek(start)
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def conf_glewlwyd(self, path, extra=()):
        g = self.g
        items = [("token_endpoint", g["TOKEN_ENDPOINT"]), ("ca_file", g["CA_FILE"]),
                 ("client_id", g["CLIENT_ID"]), ("client_secret", g["CLIENT_SECRET"]),
                 ("scope", g["SCOPE"]), ("timeout", "10"), ("connect_timeout", "3")]
        items += list(extra)
        write_file(path, "# Glewlwyd on loopback (test_e2e.py)\n" +
                   "".join("%s = %s\n" % kv for kv in items), 0o600)

    def conf_testidp(self, path, scenario, extra=(), timeout=5):
        if scenario is None:     # the IdP is down: nothing listens there
            url = "https://%s:%d/token" % (LOOP, self.closed_port())
        else:
            url = self.idp.url(scenario)
        self.conf_testidp_url(path, url, extra, timeout)

    def conf_testidp_url(self, path, url, extra=(), timeout=5):
        """extra: (key, value) pairs, which win over the defaults here."""
        items = dict([("token_endpoint", url), ("ca_file", self.ca), ("timeout", str(timeout)),
                      ("connect_timeout", str(min(timeout, 2))),
                      # the table measures each outcome itself, not a breaker's
                      ("fail_fast", "0")])
        items.update(dict(extra))
        items = list(items.items())
        write_file(path, "# test IdP on loopback (test_e2e.py)\n" +
                   "".join("%s = %s\n" % kv for kv in items), 0o600)

    def conf_mfa(self, path, extra=()):
        """The test IdP's OpenID Connect profile MFA_PROFILE by issuer=
        (discovery, JWKS, the id_token checked), mfa = otp."""
        items = [("issuer", "https://%s:%d/o/%s" % (LOOP, self.idp.port, MFA_PROFILE)),
                 ("ca_file", self.ca), ("client_id", MFA_CLIENT),
                 ("client_secret", self.mfa_secret), ("token_check", "id_token"),
                 ("cache_dir", os.path.join(self.W, "cache-mfa")), ("timeout", "5"),
                 ("connect_timeout", "2"), ("mfa", "otp"),
                 ("username_claim", "preferred_username")] + list(extra)
        write_file(path, "# test IdP on loopback, OpenID Connect + MFA (test_e2e.py)\n" +
                   "".join("%s = %s\n" % kv for kv in items), 0o600)

    def mfa_token_requests(self):
        """The token endpoint requests of MFA_PROFILE so far."""
        return [q for q in self.idp.requests(MFA_PROFILE) if q.get("endpoint") == "token"]

    @staticmethod
    def grants(reqs):
        return [((q.get("form") or {}).get("grant_type") or [None])[0] for q in reqs]

    def closed_port(self):
        if not hasattr(self, "_closed"):
            self._closed = free_port()
        return self._closed

    def shim_mark(self):
        return os.path.getsize(self.shimlog) if os.path.exists(self.shimlog) else 0

    def shim_lines(self, mark):
        """(pid, prio, text) of the module's log lines since mark."""
        out = []
        for line in self.read(self.shimlog, mark).splitlines():
            m = re.match(r"\[pid (\d+)\] SYSLOG\((\d+)\): (.*)$", line)
            if m:
                out.append((int(m.group(1)), int(m.group(2)), m.group(3)))
        return out

    def auth_lines(self, mark, user=None):
        return [(p, pr, x) for p, pr, x in self.shim_lines(mark)
                if x.startswith("authentication ") and (user is None or
                                                        field(x, "user") == user)]

    def ssh(self, user, password, method, command="env", timeout=40, later=()):
        """later: what askpass answers to the 2nd, 3rd... prompt (else the
        password again)."""
        self.nssh += 1
        n = self.nssh
        sdir = os.path.join(self.W, "ssh")
        pwfile = os.path.join(sdir, "pw-%d" % n)
        for path, text in [(pwfile, password)] + [("%s.%d" % (pwfile, i + 2), a)
                                                   for i, a in enumerate(later)]:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
        asklog = os.path.join(sdir, "ask-%d" % n)
        env = {"PATH": "/usr/bin:/bin", "HOME": sdir, "LANG": "C.UTF-8",
               "SSH_ASKPASS": self.askpass, "SSH_ASKPASS_REQUIRE": "force", "DISPLAY": ":0",
               "ROPC_E2E_PASSFILE": pwfile, "ROPC_E2E_ASKLOG": asklog}
        opts = ["PreferredAuthentications=" + method,
                "PasswordAuthentication=yes", "KbdInteractiveAuthentication=yes",
                "PubkeyAuthentication=no", "HostbasedAuthentication=no",
                "GSSAPIAuthentication=no", "NumberOfPasswordPrompts=1", "BatchMode=no",
                "StrictHostKeyChecking=no", "UserKnownHostsFile=" + self.known_hosts,
                "GlobalKnownHostsFile=/dev/null", "CheckHostIP=no", "UpdateHostKeys=no",
                "ConnectTimeout=10", "ControlMaster=no", "ControlPath=none",
                "IdentityFile=none", "IdentitiesOnly=yes"]
        cmd = [SSH, "-F", "/dev/null", "-T", "-p", str(self.port), "-l", user]
        for o in opts:
            cmd += ["-o", o]
        cmd += [LOOP, command]
        t0 = time.monotonic()
        try:
            p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                               timeout=timeout, env=env, cwd="/")
            rc, out, err = p.returncode, p.stdout, p.stderr
        except subprocess.TimeoutExpired as e:
            rc, out, err = "timeout", e.stdout or b"", e.stderr or b""
        elapsed = time.monotonic() - t0
        out = out.decode("utf-8", "replace")
        err = err.decode("utf-8", "replace")
        prompts = self.read(asklog).splitlines()
        envd = {}
        for line in out.splitlines():
            k, eq, v = line.partition("=")
            if eq:
                envd[k] = v
        tok = envd.get("OAUTH2_ACCESS_TOKEN")
        if tok:
            self.secrets.add(tok)
        return {"rc": rc, "out": out, "err": err, "elapsed": elapsed, "prompts": prompts,
                "env": envd}

    # sudo -------------------------------------------------------------------
    def setup_sudo(self):
        t, st = self.t, self.st
        st.syslog = self.syslog = Syslog(os.path.join(self.W, "log.sock"))
        self.sudo_conf = os.path.join(self.W, "conf", "sudo-module.conf")
        self.conf_glewlwyd(self.sudo_conf)
        mod = os.path.realpath(MODULE)
        self.pamd = "/etc/pam.d/" + self.tag
        if os.path.lexists(self.pamd):
            raise RuntimeError(self.pamd + " exists")
        st.etc_files.append(self.pamd)
        write_file(self.pamd,
                   "# pam_ropc end-to-end test (tests/e2e/test_e2e.py): removed when it ends\n"
                   "auth     required  %s config=%s\n"
                   "account  required  %s config=%s\n"
                   "session  required  pam_permit.so\n" % (mod, self.sudo_conf, mod,
                                                           self.sudo_conf), 0o644)
        self.sudoers = "/etc/sudoers.d/" + self.tag
        if os.path.lexists(self.sudoers):
            raise RuntimeError(self.sudoers + " exists")
        st.etc_files.append(self.sudoers)
        self.sudo_users = [self.user, self.g["DEMO_USER"]]
        ok = self.write_sudoers(pam_silent=True)
        t.ok(ok, "sudoers drop-in %s passes visudo -cf, and visudo -c passes with it"
             % self.sudoers, getattr(self, "_visudo", ""))
        if not ok:
            raise RuntimeError("sudoers refused")

    def write_sudoers(self, pam_silent=True):
        lines = ["# pam_ropc end-to-end test (tests/e2e/test_e2e.py): removed when it ends"]
        for u in self.sudo_users:
            lines.append("Defaults:%s pam_service=%s, !lecture, !mail_badpass, !mail_no_user%s"
                         % (u, self.tag, "" if pam_silent else ", !pam_silent"))
            lines.append("%s ALL=(root) /usr/bin/printenv, /usr/bin/id" % u)
        # sudo ignores files whose name holds a '.': the check copy is inert.
        tmp = self.sudoers + ".check"
        if tmp not in self.st.etc_files:
            self.st.etc_files.append(tmp)
        write_file(tmp, "\n".join(lines) + "\n", 0o440)
        p = run(["visudo", "-cf", tmp], timeout=30)
        self._visudo = p.stdout + p.stderr
        if p.returncode != 0:
            os.unlink(tmp)
            return False
        os.replace(tmp, self.sudoers)
        p = run(["visudo", "-c"], timeout=30)
        self._visudo += p.stdout + p.stderr
        if p.returncode != 0:
            os.unlink(self.sudoers)
            return False
        return True

    def sudo(self, user, answers, command=("/usr/bin/printenv",), timeout=90, user_env=(),
             prompt=PROMPT):
        """user_env: (name, value) pairs in the invoking user's environment.
        prompt: sudo's -p (None: sudo's own default, "[sudo] password for
        USER: "); "prompts" counts it."""
        if prompt is None:
            prompt = "[sudo] password for %s: " % user
            popt = []
        else:
            popt = ["-p", prompt]
        pw = pwd.getpwnam(user)
        stdin = "".join(a + "\n" for a in answers).encode("utf-8")
        cmd = ["unshare", "-m", "--propagation", "private", "sh", DEVNS,
               os.path.join(self.W, "olddev"), self.syslog.path,
               "setpriv", "--reuid", str(pw.pw_uid), "--regid", str(pw.pw_gid),
               "--init-groups", "--reset-env", "--"]
        if user_env:
            cmd += ["env"] + ["%s=%s" % kv for kv in user_env]
        cmd += [SUDO, "-S", "-k"] + popt + ["--"] + list(command)
        mark = self.syslog.mark()
        t0 = time.monotonic()
        try:
            p = subprocess.run(cmd, input=stdin, capture_output=True, timeout=timeout, cwd="/",
                               env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C"})
            rc, out, err = p.returncode, p.stdout, p.stderr
        except subprocess.TimeoutExpired as e:
            rc, out, err = "timeout", e.stdout or b"", e.stderr or b""
        elapsed = time.monotonic() - t0
        out = out.decode("utf-8", "replace")
        err = err.decode("utf-8", "replace")
        prompts = err.count(prompt)
        # The log lines arrive over the socket: wait for one per prompt.
        tag = "pam_ropc(%s:auth): authentication " % self.tag

        def lines():
            return [(pr, x[x.index(tag) + len("pam_ropc(%s:auth): " % self.tag):])
                    for pr, x in self.syslog.since(mark) if tag in x]
        try:
            wait_for(lambda: len(lines()) >= prompts, 3, "sudo's log lines")
        except RuntimeError:
            pass
        envd = {}
        for line in out.splitlines():
            k, eq, v = line.partition("=")
            if eq:
                envd[k] = v
        if envd.get("OAUTH2_ACCESS_TOKEN"):
            self.secrets.add(envd["OAUTH2_ACCESS_TOKEN"])
        shown = [l for l in err.replace(prompt, "\n").splitlines() if l.strip()]
        return {"rc": rc, "out": out, "err": err, "shown": shown, "prompts": prompts,
                "elapsed": elapsed, "env": envd, "auth": lines(),
                "all_logs": self.syslog.since(mark)}

    @staticmethod
    def sudo_version():
        p = run([SUDO, "-V"], timeout=10)
        m = re.search(r"Sudo version (\S+)", p.stdout)
        return m.group(1) if m else "?"

    def introspect(self, token):
        p = run([GLEWLWYD, "introspect", self.gdir, "-"], timeout=30,
                stdin=None, input=token)
        try:
            return json.loads(p.stdout)
        except ValueError:
            return {"error": p.stdout + p.stderr}

    # ---------------------------------------------------------------- checks
    def check_token_env(self, r, user, what):
        t = self.t
        env = r["env"]
        tok = env.get("OAUTH2_ACCESS_TOKEN", "")
        info = self.introspect(tok) if tok else {}
        t.ok(info.get("active") is True and info.get("username") == user,
             "%s: OAUTH2_ACCESS_TOKEN in the session is the token Glewlwyd issued to %s "
             "(introspection)" % (what, user), {"introspection": info, "env": sorted(env)})
        t.eq(env.get("OAUTH2_TOKEN_TYPE", "").lower(), "bearer", "%s: OAUTH2_TOKEN_TYPE" % what)
        now = int(time.time())
        exp = env.get("OAUTH2_EXPIRES_AT", "")
        t.ok(exp.isdigit() and now + 3600 - 120 <= int(exp) <= now + 3600 + 5,
             "%s: OAUTH2_EXPIRES_AT is about now + 3600 (Glewlwyd's token lifetime)" % what,
             "%r, now %d" % (exp, now))
        t.eq(env.get("OAUTH2_SCOPE"), self.g["SCOPE"], "%s: OAUTH2_SCOPE" % what)
        return tok

    def case_glewlwyd_ssh(self):
        t, g = self.t, self.g
        self.conf_glewlwyd(self.sshd_conf)
        first = {}
        for method in METHODS:
            mark, emark = self.shim_mark(), os.path.getsize(self.sshd_log)
            r = self.ssh(g["DEMO_USER"], g["DEMO_PASSWORD"], method)
            what = "sshd %s: %s with the right IdP password" % (method, g["DEMO_USER"])
            t.ok(r["rc"] == 0 and "OAUTH2_ACCESS_TOKEN" in r["env"], "%s logs in" % what,
                 r["err"] + "\n" + self.read(self.sshd_log, emark)[-1500:])
            self.check_token_env(r, g["DEMO_USER"], what)
            t.eq(len(r["prompts"]), 1, "%s: one password prompt" % what)
            lines = self.auth_lines(mark, g["DEMO_USER"])
            t.eq([(field(x, "outcome"), field(x, "code")) for _, _, x in lines],
                 [("success", "PAM_SUCCESS")], "%s: one log line, outcome=success" % what)
            if lines:
                t.eq(field(lines[0][2], "service"), self.svc,
                     "%s: the PAM service is the basename of sshd's argv[0] (%s)"
                     % (what, self.svc))
            # What pam_wrapper alone would have shown (its stderr lines).
            pw_lines = [l for l in self.read(self.sshd_log, emark).splitlines()
                        if "SYSLOG(6): authentication outcome=success" in l]
            first[method] = (len(lines), len(pw_lines), lines[0][0] if lines else None)
        for method, (shim, pwrap, pid) in first.items():
            t.diag("%s: module log line via the shim: %d, via pam_wrapper's stderr: %d "
                   "(PAM ran in pid %s)" % (method, shim, pwrap, pid))
        t.ok(first["password"][1] == 1,
             "password: pam_wrapper's own stderr logging shows the line (PAM runs in "
             "sshd's monitor, environment intact)")
        if first["keyboard-interactive"][1] == 0:
            self.st.note("pam_wrapper's stderr logging loses the module's LOG_NOTICE/LOG_INFO "
                         "lines for keyboard-interactive: sshd runs PAM in a child that empties "
                         "environ (auth-pam.c sshpam_thread), so PAM_WRAPPER_DEBUGLEVEL is gone; "
                         "the test reads them through logshim.c")

        # The special-character password (UTF-8, emoji, spaces, & = + % " ').
        for method in METHODS:
            r = self.ssh(g["SPECIAL_USER"], g["SPECIAL_PASSWORD"], method)
            what = "sshd %s: %s (password with UTF-8, emoji, quotes)" % (method,
                                                                          g["SPECIAL_USER"])
            t.ok(r["rc"] == 0, "%s logs in" % what, r["err"])
            tok = r["env"].get("OAUTH2_ACCESS_TOKEN", "")
            info = self.introspect(tok) if tok else {}
            t.eq(info.get("username"), g["SPECIAL_USER"], "%s: the token is %s's"
                 % (what, g["SPECIAL_USER"]))

        # A wrong password; the disabled user with the right one.
        for user, password, name in ((g["DEMO_USER"], "not the password", "wrong password"),
                                     (g["DISABLED_USER"], g["DISABLED_PASSWORD"],
                                      "user disabled at Glewlwyd")):
            for method in METHODS:
                mark = self.shim_mark()
                r = self.ssh(user, password, method)
                what = "sshd %s: %s (%s)" % (method, name, user)
                t.ok(r["rc"] == 255 and "Permission denied" in r["err"] and not r["env"],
                     "%s is refused" % what, r)
                lines = self.auth_lines(mark, user)
                t.eq([(field(x, "outcome"), field(x, "code"), field(x, "http"))
                      for _, _, x in lines],
                     [("invalid_credentials", "PAM_AUTH_ERR", "403")],
                     "%s: log line says outcome=invalid_credentials (Glewlwyd: 403)" % what)

    def case_unknown_user(self):
        t = self.t
        # The `ok` scenario says yes to anyone: a request would be a login.
        self.conf_testidp(self.sshd_conf, "ok")
        for method in METHODS:
            before = len(self.idp.requests())
            mark = self.shim_mark()
            r = self.ssh(self.ghost, "some password", method)
            what = "sshd %s: a user with no local account" % method
            t.ok(r["rc"] == 255 and not r["env"], "%s is refused" % what, r)
            t.eq(self.idp.requests()[before:], [], "%s: the IdP receives no request" % what)
            lines = self.auth_lines(mark, self.ghost)
            t.eq([(field(x, "outcome"), field(x, "code")) for _, _, x in lines],
                 [("unknown_user", "PAM_USER_UNKNOWN")],
                 "%s: log line says outcome=unknown_user" % what)

    def case_root_junk(self):
        """sshd hands PAM a stand-in password for users it will refuse anyway
        (invalid users, root under PermitRootLogin prohibit-password): the
        bytes of "\\b\\n\\r\\177INCORRECT" repeated to the typed password's
        length.  It must never reach the IdP."""
        t = self.t
        self.conf_testidp(self.sshd_conf, "password")
        for method in METHODS:
            before = len(self.idp.requests())
            mark = self.shim_mark()
            r = self.ssh("root", "a root password of 29 chars", method)
            what = "sshd %s: root (PermitRootLogin prohibit-password)" % method
            t.ok(r["rc"] == 255, "%s is refused" % what, r["err"])
            new = self.idp.requests()[before:]
            sent = [(f.get("username"), f.get("password")) for f in
                    ((q.get("form") or {}) for q in new)]
            t.ok(not new, "%s: sshd's stand-in password never reaches the IdP" % what,
                 "the IdP received: %r\nlog: %s" % (sent, [x for _, _, x in
                                                          self.auth_lines(mark, "root")]))
            if new and any(pw and pw[0].startswith(JUNK[:4]) for _, pw in sent):
                self.st.note("sshd's stand-in password reached the IdP for root (%s): %r"
                             % (method, sent))

    def case_outcomes_ssh(self):
        t = self.t
        for outcome, code, scen, msg in OUTCOMES:
            self.conf_testidp(self.sshd_conf, scen)
            for method in METHODS:
                password = "wrong password" if outcome == "invalid_credentials" else TEST_PW
                mark = self.shim_mark()
                before = len(self.idp.requests())
                r = self.ssh(self.user, password, method)
                what = "sshd %s: %s" % (method, outcome)
                if outcome == "success":
                    t.ok(r["rc"] == 0 and r["env"].get("OAUTH2_ACCESS_TOKEN", "").endswith(
                        "-" + self.user), "%s: logged in, the test IdP's token in the session"
                        % what, r)
                else:
                    t.ok(r["rc"] == 255 and not r["env"], "%s: refused" % what, r)
                lines = self.auth_lines(mark, self.user)
                t.eq([(field(x, "outcome"), field(x, "code")) for _, _, x in lines],
                     [(outcome, code)], "%s: log line says outcome=%s code=%s"
                     % (what, outcome, code))
                if scen is not None:
                    t.eq(len(self.idp.requests()[before:]), 1,
                         "%s: one request to the IdP" % what)
                shown = [l for l in r["err"].splitlines() if l.strip()]
                if msg is not None and method == "keyboard-interactive":
                    t.ok(msg in shown, "%s: the person sees %r" % (what, msg), r["err"])
                self.table[outcome]["ssh " + method] = (
                    "logged in (exit 0)" if r["rc"] == 0 else
                    one_line(r["err"], [self.user]) + " (exit %s)" % r["rc"])
                self.table[outcome]["ssh " + method + " msg"] = (
                    msg is not None and msg in shown)

    def case_mfa_ssh(self):
        """mfa = otp through sshd: keyboard-interactive carries the second
        prompt; the password method answers every echo-off prompt with the
        password (auth-pam.c sshpam_passwd_conv), so the code prompt gets
        the password and the login fails."""
        t = self.t
        self.conf_mfa(self.sshd_conf)
        sub = "sub-" + hashlib.sha256(self.user.encode()).hexdigest()[:16]
        method = "keyboard-interactive"
        for row, code in (("mfa = otp (right code)", MFA_CODE), ("mfa_failed", MFA_WRONG)):
            good = code == MFA_CODE
            mark = self.shim_mark()
            before = len(self.mfa_token_requests())
            r = self.ssh(self.user, TEST_PW, method, later=[code])
            reqs = self.mfa_token_requests()[before:]
            what = "sshd %s, mfa=otp, %s code" % (method, "the right" if good else "a wrong")
            prompts = r["prompts"]
            t.ok(len(prompts) == 2 and prompts[0].endswith("Password: ") and
                 prompts[1].endswith("Verification code: "),
                 "%s: the person is asked \"Password: \", then \"Verification code: \""
                 % what, prompts)
            lines = self.auth_lines(mark, self.user)
            shown = [l for l in r["err"].splitlines() if l.strip()]
            if good:
                t.ok(r["rc"] == 0 and r["env"].get("OAUTH2_SUB") == sub,
                     "%s: logged in; OAUTH2_SUB in the session is the verified id_token's sub"
                     % what, r)
                t.eq([(field(x, "outcome"), field(x, "code")) for _, _, x in lines],
                     [("success", "PAM_SUCCESS")], "%s: log line says outcome=success" % what)
                t.ok(lines and "mfa-otp" in (field(lines[0][2], "detail") or ""),
                     "%s: the log line's detail names the step (mfa-otp)" % what,
                     lines and lines[0][2])
            else:
                t.ok(r["rc"] == 255 and not r["env"], "%s: refused" % what, r)
                t.eq([(field(x, "outcome"), field(x, "code")) for _, _, x in lines],
                     [("mfa_failed", "PAM_AUTH_ERR")],
                     "%s: log line says outcome=mfa_failed code=PAM_AUTH_ERR" % what)
                t.ok(MFA_MSG in shown, "%s: the person sees %r" % (what, MFA_MSG), r["err"])
            t.eq(self.grants(reqs), ["password", MFA_GRANT],
                 "%s: two token requests, the password grant, then the mfa-otp grant" % what)
            t.eq(len(reqs) == 2 and (reqs[1].get("form") or {}).get("otp"), [code],
                 "%s: the code typed at the second prompt is the otp the IdP received" % what)
            self.table[row]["ssh " + method] = (
                "logged in (exit 0), after the prompts %s" % " / ".join(
                    repr(p.split(") ", 1)[-1]) for p in prompts) if r["rc"] == 0 else
                one_line(r["err"], [self.user]) + " (exit %s)" % r["rc"])

        # The password method: one prompt only, sshd answers the code prompt.
        method = "password"
        mark = self.shim_mark()
        before = len(self.mfa_token_requests())
        r = self.ssh(self.user, TEST_PW, method, later=[MFA_CODE])
        reqs = self.mfa_token_requests()[before:]
        what = "sshd password, mfa=otp"
        t.ok(r["rc"] == 255 and not r["env"], "%s: refused even with the right password" % what,
             r)
        t.eq(len(r["prompts"]), 1, "%s: ssh asks for the password only (the code prompt never "
             "reaches the person)" % what)
        lines = self.auth_lines(mark, self.user)
        t.eq([(field(x, "outcome"), field(x, "code")) for _, _, x in lines],
             [("mfa_failed", "PAM_AUTH_ERR")],
             "%s: log line says outcome=mfa_failed code=PAM_AUTH_ERR" % what)
        t.ok(self.grants(reqs) == ["password", MFA_GRANT] and
             (reqs[1].get("form") or {}).get("otp") == [TEST_PW],
             "%s: sshd answered the module's \"Verification code: \" with the password: it "
             "reached the IdP as the otp" % what,
             [(self.grants([q])[0], sorted((q.get("form") or {}))) for q in reqs])
        cell = one_line(r["err"], [self.user]) + " (exit %s)" % r["rc"]
        self.table["mfa_failed"]["ssh password"] = cell
        self.table["mfa = otp (right code)"]["ssh password"] = (
            "refused: sshd answers the code prompt with the password: " + cell)

    def case_bang_user(self):
        t = self.t
        self.conf_testidp(self.sshd_conf, "ok")
        for method in METHODS:
            r = self.ssh(self.user_bang, TEST_PW, method)
            t.ok(r["rc"] == 0 and r["env"].get("OAUTH2_ACCESS_TOKEN", "").endswith(
                "-" + self.user_bang),
                "sshd %s: an account locked locally with shadow '!' still logs in with its "
                "IdP password (UsePAM yes: sshd leaves the account check to PAM)" % method, r)

    def case_export_options_ssh(self):
        t = self.t
        self.conf_testidp(self.sshd_conf, "ok", [("export_token", "no")])
        for method in METHODS:
            r = self.ssh(self.user, TEST_PW, method)
            t.ok(r["rc"] == 0 and not [k for k in r["env"] if k.startswith("OAUTH2_")],
                 "sshd %s: export_token=no logs in (account stage agrees) and the session "
                 "has no OAUTH2_ variable" % method, r)
        # Every variable the module can export, long JWTs included, crosses
        # sshd's privilege separation (and the keyboard-interactive child).
        self.conf_testidp(self.sshd_conf, "ok", [("env_prefix", "IDP_"),
                                                 ("export_id_token", "yes"),
                                                 ("export_refresh_token", "yes")])
        want = ["IDP_ACCESS_TOKEN", "IDP_EXPIRES_AT", "IDP_ID_TOKEN", "IDP_REFRESH_TOKEN",
                "IDP_SCOPE", "IDP_TOKEN_TYPE", "IDP_USER"]
        for method in METHODS:
            r = self.ssh(self.user, TEST_PW, method)
            got = sorted(k for k in r["env"] if k.startswith(("IDP_", "OAUTH2_")))
            t.eq(got, want, "sshd %s: env_prefix=IDP_, export_id_token, export_refresh_token: "
                 "all seven variables reach the session" % method)
            t.ok(r["env"].get("IDP_ID_TOKEN", "").count(".") == 2 and
                 r["env"].get("IDP_REFRESH_TOKEN", "").startswith("r-"),
                 "sshd %s: the id_token (a JWT) and the refresh token arrive whole" % method)
            for k in ("IDP_ID_TOKEN", "IDP_REFRESH_TOKEN"):
                if r["env"].get(k):
                    self.secrets.add(r["env"][k])

    def case_idp_down(self):
        t = self.t
        self.conf_testidp(self.sshd_conf, "stall", timeout=IDP_DOWN_TIMEOUT)
        for method in METHODS:
            mark = self.shim_mark()
            r = self.ssh(self.user, TEST_PW, method)
            what = "sshd %s: IdP down (answers nothing), timeout=%d" % (method, IDP_DOWN_TIMEOUT)
            lines = self.auth_lines(mark, self.user)
            t.ok(r["rc"] == 255, "%s: refused" % what, r)
            t.eq([field(x, "outcome") for _, _, x in lines], ["unavailable"],
                 "%s: log line says outcome=unavailable" % what)
            ms = int(field(lines[0][2], "elapsed_ms") or -1) if lines else -1
            t.ok(IDP_DOWN_TIMEOUT * 1000 - 100 <= ms <= IDP_DOWN_TIMEOUT * 1000 + 500,
                 "%s: the module gave up after its timeout (elapsed_ms=%d)" % (what, ms))
            # sshd pads a failed "password" request (auth2.c,
            # ensure_minimum_time_since): to the per-user delay (5-9 ms)
            # doubled until it exceeds the time taken, so up to twice the
            # module's time.  keyboard-interactive answers are not padded.
            limit = IDP_DOWN_TIMEOUT * (2 if method == "password" else 1) + DOWN_MARGIN
            t.ok(r["elapsed"] <= limit,
                 "%s: ssh was refused within %s%d s + %.1f s (took %.2f s)"
                 % (what, "2 x " if method == "password" else "", IDP_DOWN_TIMEOUT,
                    DOWN_MARGIN, r["elapsed"]))
            self.figures["ssh %s idp down" % method] = (r["elapsed"], ms)

    def parallel(self, fn, args):
        """fn(arg) for every arg at once, while every sshd process of the
        run is remembered (for check_settled).  (results, seconds)."""
        st = self.st
        stop_watch = threading.Event()

        def watch():
            while not stop_watch.is_set():
                st.remember_sshd_tree()
                time.sleep(0.05)
        wt = threading.Thread(target=watch, daemon=True)
        wt.start()
        t0 = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(len(list(args))) as ex:
            res = list(ex.map(fn, args))
        took = time.monotonic() - t0
        stop_watch.set()
        wt.join(5)
        return res, took

    def check_settled(self, tag):
        """After parallel logins: every per-connection sshd is gone (not
        even re-parented), only the listener is left."""
        t, st = self.t, self.st
        listener = st.sshd.pid
        try:
            wait_for(lambda: not descendants(listener), 15, "sshd's children to exit")
        except RuntimeError:
            pass
        kids = descendants(listener)
        t.ok(not kids and st.sshd.poll() is None,
             "%s: all sshd children exited, the listener is still up" % tag,
             [(k, proc_table().get(k)) for k in kids])
        lingering = [p for p in st.sshd_pids if p != listener and alive(p)]
        t.eq(lingering, [], "%s: no sshd process of the run outlives its connection "
             "(not even re-parented)" % tag)

    def case_parallel(self):
        t, g = self.t, self.g
        self.conf_glewlwyd(self.sshd_conf)
        mark, emark = self.shim_mark(), os.path.getsize(self.sshd_log)
        methods = [METHODS[i % 2] for i in range(PARALLEL)]
        res, took = self.parallel(lambda m: self.ssh(g["DEMO_USER"], g["DEMO_PASSWORD"], m,
                                                     timeout=90), methods)
        self.figures["parallel"] = took
        okc = [r["rc"] == 0 and r["env"].get("OAUTH2_ACCESS_TOKEN") for r in res]
        t.ok(all(okc), "%d parallel ssh logins (%d password, %d keyboard-interactive) all "
             "succeed (%.1f s)" % (PARALLEL, methods.count("password"),
                                   methods.count("keyboard-interactive"), took),
             [(r["rc"], r["err"][-300:]) for r in res if r["rc"] != 0])
        toks = [r["env"].get("OAUTH2_ACCESS_TOKEN") for r in res]
        t.eq(len(set(toks)), PARALLEL, "parallel: %d distinct tokens" % PARALLEL)
        infos = [self.introspect(x) if x else {} for x in toks]
        t.ok(all(i.get("active") is True and i.get("username") == g["DEMO_USER"]
                 for i in infos),
             "parallel: every token is an active Glewlwyd token of %s" % g["DEMO_USER"],
             [i for i in infos if i.get("username") != g["DEMO_USER"]][:3])
        lines = self.auth_lines(mark, g["DEMO_USER"])
        t.eq(sorted(field(x, "outcome") for _, _, x in lines), ["success"] * PARALLEL,
             "parallel: %d log lines, all outcome=success" % PARALLEL)
        self.check_settled("parallel")
        log = self.read(self.sshd_log, emark)
        t.eq(log.count("Accepted "), PARALLEL, "parallel: sshd logged %d accepted logins"
             % PARALLEL)
        bad = [l for l in log.splitlines() if re.search(r"\b(fatal|error):", l)]
        t.eq(bad, [], "parallel: sshd logged no error or fatal line")

    def case_parallel_outage(self):
        """Fifty parallel keyboard-interactive logins (test IdP, scenario
        ok) all succeed, with fifty success lines and no process left;
        then the IdP is blackholed (SYNs dropped) and fifty more are
        answered within connect_timeout + 1 s of the module's time in all,
        not fifty times it: the first waits connect_timeout and opens the
        breaker, the others fail fast."""
        t = self.t
        n = OUTAGE_LOGINS
        tag = "parallel, %d keyboard-interactive" % n
        self.conf_testidp(self.sshd_conf, "ok")
        mark, emark = self.shim_mark(), os.path.getsize(self.sshd_log)
        res, took = self.parallel(lambda _: self.ssh(self.user, TEST_PW, "keyboard-interactive",
                                                     timeout=120), range(n))
        self.figures["parallel outage"] = took
        good = [r for r in res if r["rc"] == 0 and r["env"].get("OAUTH2_ACCESS_TOKEN")]
        t.eq(len(good), n, "%s: all succeed (%.1f s)" % (tag, took))
        if len(good) != n:
            t.diag(repr([(r["rc"], r["err"][-300:]) for r in res if r not in good][:3]))
        lines = self.auth_lines(mark, self.user)
        t.eq(sorted(field(x, "outcome") for _, _, x in lines), ["success"] * n,
             "%s: %d log lines, all outcome=success" % (tag, n))
        self.check_settled(tag)
        log = self.read(self.sshd_log, emark)
        t.eq(log.count("Accepted "), n, "%s: sshd logged %d accepted logins" % (tag, n))

        # The IdP vanishes: every SYN to it is dropped.
        bh = Blackhole()
        url = bh.url("/token")
        try:
            breaker_forget(url)
            self.conf_testidp_url(self.sshd_conf, url, [("fail_fast", "30"),
                                                        ("connect_timeout",
                                                         str(OUTAGE_CONNECT))])
            mark = self.shim_mark()
            t0 = time.monotonic()
            res = [self.ssh(self.user, TEST_PW, "keyboard-interactive", timeout=60)
                   for _ in range(n)]
            took = time.monotonic() - t0
        finally:
            bh.stop()
            breaker_forget(url)
        tag = "IdP blackholed, %d logins" % n
        t.ok(all(r["rc"] == 255 for r in res), "%s: all refused" % tag,
             [r["rc"] for r in res])
        lines = [x for _, _, x in self.auth_lines(mark, self.user)]
        t.eq([field(x, "outcome") for x in lines], ["unavailable"] * n,
             "%s: %d log lines, all outcome=unavailable" % (tag, n))
        fast = ["failing fast since" in (field(x, "detail") or "") for x in lines]
        t.ok(len(fast) == n and not fast[0] and all(fast[1:]),
             "%s: the first waits for the IdP, the other %d fail fast" % (tag, n - 1),
             [field(x, "detail") for x in lines[:3]])
        total = sum(int(field(x, "elapsed_ms") or 0) for x in lines)
        t.ok(len(lines) == n and total <= (OUTAGE_CONNECT + 1) * 1000,
             "%s: answered within connect_timeout + 1 s in all (the module's elapsed_ms "
             "add up to %d ms; %.1f s of ssh in all)" % (tag, total, took))
        self.check_settled(tag)
        self.figures["blackholed"] = (took, total)

    # sudo ------------------------------------------------------------------
    def case_glewlwyd_sudo(self):
        t, g = self.t, self.g
        u = g["DEMO_USER"]
        self.conf_glewlwyd(self.sudo_conf)
        r = self.sudo(u, [g["DEMO_PASSWORD"]])
        what = "sudo -S: %s with the right IdP password" % u
        t.ok(r["rc"] == 0 and r["env"].get("SUDO_USER") == u and r["env"].get("USER") == "root",
             "%s runs the command as root" % what, r)
        t.eq(r["prompts"], 1, "%s: asked once" % what)
        t.eq([(field(x, "outcome"), field(x, "service")) for _, x in r["auth"]],
             [("success", self.tag)], "%s: log line (via /dev/log) says outcome=success, "
             "service=%s" % (what, self.tag))
        self.check_token_env(r, u, "%s (export_token default yes)" % what)

        r = self.sudo(u, ["not the password"] * 4, ("/usr/bin/id",))
        what = "sudo -S: %s with a wrong password" % u
        t.ok(r["rc"] == 1 and "uid=0" not in r["out"], "%s is refused" % what, r)
        t.eq([field(x, "outcome") for _, x in r["auth"]], ["invalid_credentials"] * 3,
             "%s: asked 3 times, each logged as invalid_credentials" % what)

        self.conf_glewlwyd(self.sudo_conf, [("export_token", "no")])
        r = self.sudo(u, [g["DEMO_PASSWORD"]])
        t.ok(r["rc"] == 0 and r["env"].get("SUDO_USER") == u,
             "sudo -S, export_token=no: the command runs", r)
        t.eq(sorted(k for k in r["env"] if k.startswith("OAUTH2_")), [],
             "sudo -S, export_token=no: no OAUTH2_ variable in the command's environment")
        self.conf_glewlwyd(self.sudo_conf, [("export_token", "yes")])
        r = self.sudo(u, [g["DEMO_PASSWORD"]])
        t.eq(sorted(k for k in r["env"] if k.startswith("OAUTH2_")),
             ["OAUTH2_ACCESS_TOKEN", "OAUTH2_EXPIRES_AT", "OAUTH2_SCOPE", "OAUTH2_TOKEN_TYPE",
              "OAUTH2_USER"],
             "sudo -S, export_token=yes: sudo copies the PAM environment into the command's, "
             "despite env_reset")
        t.eq(r["env"].get("OAUTH2_USER"), u, "sudo -S: OAUTH2_USER names the invoking user")
        # sudo is setuid: the invoking user's SSLKEYLOGFILE must not make
        # root write TLS session secrets to a file of the user's choosing.
        keylog = os.path.join(self.W, "sudo-keylog.txt")
        r = self.sudo(u, [g["DEMO_PASSWORD"]], ("/usr/bin/id",),
                      user_env=[("SSLKEYLOGFILE", keylog)])
        t.ok(r["rc"] == 0, "sudo -S with SSLKEYLOGFILE set: the command runs", r)
        t.ok(not os.path.exists(keylog),
             "sudo -S with SSLKEYLOGFILE set: no TLS secrets written to it")

    def case_outcomes_sudo(self):
        t = self.t
        for outcome, code, scen, msg in OUTCOMES:
            self.conf_testidp(self.sudo_conf, scen)
            answers = [TEST_PW] if outcome == "success" else \
                ["wrong password" if outcome == "invalid_credentials" else TEST_PW] * 4
            before = len(self.idp.requests())
            r = self.sudo(self.user, answers, ("/usr/bin/id",))
            rc, prompts, tries, requests, shown = SUDO_EXPECT[outcome]
            what = "sudo -S: %s" % outcome
            t.eq(r["rc"], rc, "%s: exit %d" % (what, rc))
            t.eq(r["prompts"], prompts, "%s: %s" % (
                what, "asks once" if prompts == 1 else "asks again, %d prompts" % prompts))
            t.eq(r["shown"] if outcome != "success" else
                 [l for l in r["shown"] if not l.startswith("uid=")], shown,
                 "%s: sudo shows %r" % (what, " / ".join(shown) or "nothing"))
            t.eq([(field(x, "outcome"), field(x, "code")) for _, x in r["auth"]],
                 [(outcome, code)] * tries, "%s: log line says outcome=%s code=%s, %d time(s)"
                 % (what, outcome, code, tries))
            if msg is not None:
                t.ok(msg not in r["err"], "%s: the module's message is not shown (sudo "
                     "passes PAM_SILENT)" % what)
            nreq = len(self.idp.requests()[before:])
            t.eq(nreq, requests, "%s: %d request(s) to the IdP" % (what, requests))
            self.table[outcome]["sudo"] = one_line(r["err"], [self.user]) or "(nothing)"
            self.table[outcome]["sudo again"] = r["prompts"]
            self.table[outcome]["sudo tries"] = len(r["auth"])
            self.table[outcome]["sudo idp"] = nreq

        # Can the module's message reach the person through sudo at all?
        # Newer sudo has `Defaults !pam_silent`; where visudo does not know
        # it, sudo always passes PAM_SILENT to pam_authenticate.
        msg = "account locked at the identity provider"
        self.conf_testidp(self.sudo_conf, "onelogin_locked")
        if self.write_sudoers(pam_silent=False):
            r = self.sudo(self.user, [TEST_PW] * 4, ("/usr/bin/id",))
            self.write_sudoers(pam_silent=True)
            t.ok(r["shown"].count(msg) >= 1,
                 "sudo -S with Defaults !pam_silent: the module's message reaches the person "
                 "(locked: %r at each of the 3 tries)" % msg, r["shown"])
            self.figures["nosilent"] = ("with `Defaults !pam_silent`: `%s`"
                                        % one_line(r["err"], [self.user]))
        else:
            unknown = 'unknown defaults entry "pam_silent"' in self._visudo
            t.ok(unknown, "sudo %s has no pam_silent option (visudo: unknown defaults entry): "
                 "it always calls pam_authenticate with PAM_SILENT, so no module message can "
                 "reach a sudo user" % self.sudo_version(), self._visudo)
            self.figures["nosilent"] = ("this sudo has no `pam_silent` option (visudo: "
                                        "unknown defaults entry \"pam_silent\"): PAM_SILENT "
                                        "is always passed, so the module's messages never "
                                        "reach a sudo user")
            self.st.note("sudo %s always passes PAM_SILENT: the module's messages (locked, "
                         "MFA, expired...) never reach a sudo user" % self.sudo_version())

        # IdP down with sudo: the first try waits for the timeout, the
        # later ones get the remembered answer at once.
        self.conf_testidp(self.sudo_conf, "stall", timeout=1)
        before = len(self.idp.requests("stall"))
        r = self.sudo(self.user, [TEST_PW] * 4, ("/usr/bin/id",))
        n = len(self.idp.requests("stall")[before:])
        t.ok(r["rc"] == 1 and r["prompts"] == 1 and n == 1 and 0.9 <= r["elapsed"] <= 1 + 3,
             "sudo -S, IdP down (answers nothing), timeout=1: one prompt, one request, "
             "%.1f s in all" % r["elapsed"], {"prompts": r["prompts"], "requests": n})
        self.figures["sudo idp down"] = (r["elapsed"], n)

    def case_mfa_sudo(self):
        """mfa = otp through sudo: the code prompt is the module's own text
        (sudo shows a PAM prompt that does not look like a password
        prompt as it is); PAM_AUTH_ERR after a wrong code makes sudo try
        again, each try a password and a code."""
        t = self.t
        self.conf_mfa(self.sudo_conf)
        sub = "sub-" + hashlib.sha256(self.user.encode()).hexdigest()[:16]
        for row, answers in (("mfa = otp (right code)", [TEST_PW, MFA_CODE]),
                             ("mfa_failed", [TEST_PW, MFA_WRONG] * 3 + [TEST_PW, MFA_CODE])):
            good = row != "mfa_failed"
            before = len(self.mfa_token_requests())
            # sudo's own prompt (no -p): with -p, sudo shows that text for
            # every PAM prompt (passprompt_override; checked below).
            r = self.sudo(self.user, answers, ("/usr/bin/printenv",) if good else
                          ("/usr/bin/id",), prompt=None)
            reqs = self.mfa_token_requests()[before:]
            codes = r["err"].count("Verification code: ")
            tries = len(r["auth"])
            what = "sudo -S, mfa=otp, %s" % ("the right code" if good else
                                             "a wrong code at each try")
            if good:
                t.ok(r["rc"] == 0 and r["env"].get("SUDO_USER") == self.user and
                     r["env"].get("OAUTH2_SUB") == sub,
                     "%s: the command runs; OAUTH2_SUB is the verified id_token's sub" % what, r)
                t.eq((r["prompts"], codes), (1, 1),
                     "%s: asked once for the password, once for the code" % what)
                t.eq([(field(x, "outcome"), field(x, "code")) for _, x in r["auth"]],
                     [("success", "PAM_SUCCESS")], "%s: log line says outcome=success" % what)
                t.eq(self.grants(reqs), ["password", MFA_GRANT],
                     "%s: two token requests (password grant, mfa-otp grant)" % what)
                t.eq([l for l in r["shown"] if "=" not in l], ["Verification code: "],
                     "%s: sudo shows only the module's code prompt" % what)
            else:
                t.ok(r["rc"] == 1 and "uid=0" not in r["out"], "%s: refused" % what, r)
                t.eq((r["prompts"], codes), (3, 3),
                     "%s: 3 tries, each a password prompt and a code prompt" % what)
                t.eq([(field(x, "outcome"), field(x, "code")) for _, x in r["auth"]],
                     [("mfa_failed", "PAM_AUTH_ERR")] * 3,
                     "%s: 3 log lines, outcome=mfa_failed code=PAM_AUTH_ERR" % what)
                t.eq([l.replace("Verification code: ", "") for l in r["shown"]
                      if l.replace("Verification code: ", "")], SORRY,
                     "%s: sudo shows its text for PAM_AUTH_ERR: %r" % (what, " / ".join(SORRY)))
                t.ok(MFA_MSG not in r["err"], "%s: the module's message is not shown (sudo "
                     "passes PAM_SILENT)" % what)
                t.eq(self.grants(reqs), ["password", MFA_GRANT] * 3,
                     "%s: 6 token requests: \"MFA required\" is a step, not a remembered "
                     "refusal, so each try asks again" % what)
                t.eq([(q.get("form") or {}).get("otp") for q in reqs[1::2]], [[MFA_WRONG]] * 3,
                     "%s: each code typed is one mfa-otp request" % what)
            self.table[row]["sudo"] = one_line(r["err"].replace(
                "[sudo] password for %s: " % self.user, "[sudo] password for %s: \n"
                % self.user).replace("Verification code: ", "Verification code: \n"),
                [self.user]) or "(nothing)"
            self.table[row]["sudo again"] = r["prompts"]
            self.table[row]["sudo codes"] = codes
            self.table[row]["sudo tries"] = tries
            self.table[row]["sudo idp"] = len(reqs)

        # sudo -p PROMPT: sudo puts PROMPT in place of the code prompt too.
        r = self.sudo(self.user, [TEST_PW, MFA_CODE], ("/usr/bin/id",))
        t.ok(r["rc"] == 0 and r["prompts"] == 2 and "Verification code" not in r["err"],
             "sudo -S -p PROMPT, mfa=otp, the right code: the command runs, but sudo shows "
             "PROMPT for the code prompt as well (-p sets passprompt_override)",
             {"rc": r["rc"], "prompts": r["prompts"], "err": r["err"]})
        self.figures["sudo -p mfa"] = r["prompts"]

    def case_no_secrets(self):
        logs = self.read(self.shimlog) + self.read(self.sshd_log)
        logs += "\n".join(x for _, x in self.syslog.since(0))
        leaked = [s[:8] + "..." for s in self.secrets if s and len(s) >= 6 and s in logs]
        self.t.ok(not leaked, "no password, client secret or token in any log "
                  "(module lines, sshd's stderr, syslog)", leaked)

    # ---------------------------------------------------------------- table
    def write_table(self):
        ver_ssh = run([SSH, "-V"], timeout=10).stderr.strip()
        ver_sudo = "Sudo " + self.sudo_version()
        rows = ["# pam_ropc: what each outcome looks like in ssh and sudo",
                "",
                "Generated by `tests/e2e/test_e2e.py` (do not edit): the built module behind "
                "the real sshd and sudo of Debian 12 (%s; %s)." % (ver_ssh, ver_sudo),
                "ssh runs with `NumberOfPasswordPrompts=1`; sudo with `-S` and its default "
                "`passwd_tries` (3), answering up to 4 passwords.",
                "The IdP is the scriptable test IdP (scenarios in tests/idp/testidp.py); "
                "\"unavailable\" is a closed port.",
                "",
                "| outcome | PAM code | what `ssh` shows: password | what `ssh` shows: "
                "keyboard-interactive | what `sudo` shows | does sudo ask again? |",
                "|---|---|---|---|---|---|"]
        for outcome, code, scen, msg in OUTCOMES:
            row = self.table[outcome]
            again = row.get("sudo again")
            tries = row.get("sudo tries", 0)
            again_s = "?" if again is None else (
                "no (ran the command)" if outcome == "success" else
                "no, stops after 1 try" if tries == 1 else
                "yes: %d tries, %d prompt(s), %d IdP request(s)" % (
                    tries, again, row.get("sudo idp", 0)))
            rows.append("| %s | `%s` | %s | %s | %s | %s |" % (
                outcome, code, row.get("ssh password", "?"),
                row.get("ssh keyboard-interactive", "?"), row.get("sudo", "?"), again_s))
        for row, code in MFA_ROWS:
            cells = self.table[row]
            again = cells.get("sudo again")
            again_s = "?" if again is None else (
                "no (ran the command): 1 try, %d password + %d code prompt(s), %d token "
                "request(s)" % (again, cells.get("sudo codes", 0), cells.get("sudo idp", 0))
                if code == "PAM_SUCCESS" else
                "yes: %d tries, %d password + %d code prompt(s), %d token request(s)" % (
                    cells.get("sudo tries", 0), again, cells.get("sudo codes", 0),
                    cells.get("sudo idp", 0)))
            rows.append("| %s | `%s` | %s | %s | %s | %s |" % (
                row, code, cells.get("ssh password", "?"),
                cells.get("ssh keyboard-interactive", "?"), cells.get("sudo", "?"), again_s))
        rows += ["", "Notes (measured in the same run):", ""]
        rows.append("- The MFA rows: `mfa = otp` against the test IdP's Okta-style `%s` "
                    "profile (issuer, `token_check = id_token`): the right password gets "
                    "`mfa_required` and an `mfa_token`, the module asks `Verification code: ` "
                    "(echo off) and sends the mfa-otp grant.  keyboard-interactive asks the "
                    "person both; with the `password` method sshd answers the code prompt with "
                    "the password itself (the IdP received it as the otp), so such a login always "
                    "fails as mfa_failed.  The mfa_failed row is a wrong code (ssh "
                    "keyboard-interactive, sudo at each try).  sudo runs without `-p` here: "
                    "it shows its own prompt for the module's `Password: ` and the module's "
                    "`Verification code: ` as it is%s." % (
                        MFA_PROFILE, "; with `-p PROMPT` (which sets passprompt_override) "
                        "it shows PROMPT for both (%s prompts for one login, no "
                        "\"Verification code\")" % self.figures["sudo -p mfa"]
                        if "sudo -p mfa" in self.figures else ""))
        rows.append("- The module's message to the person (`PAM_ERROR_MSG`) reaches an ssh user "
                    "only with keyboard-interactive; with the `password` method sshd keeps "
                    "PAM messages for the post-login banner, so a refused person never sees "
                    "them.")
        rows.append("- sudo calls `pam_authenticate` with `PAM_SILENT`: none of the module's "
                    "messages is shown; the person sees sudo's text for the PAM code; %s."
                    % self.figures.get("nosilent", "?"))
        for method in METHODS:
            f = self.figures.get("ssh %s idp down" % method)
            if f:
                rows.append("- IdP down (accepts the connection, never answers), module "
                            "`timeout=%d`: ssh %s refused after %.2f s; the module's log line "
                            "says elapsed_ms=%d.%s" % (
                                IDP_DOWN_TIMEOUT, method, f[0], f[1],
                                " sshd pads a failed password request to its per-user "
                                "delay (5-9 ms) doubled until it exceeds the time taken "
                                "(auth2.c ensure_minimum_time_since), so up to 2 x timeout."
                                if method == "password" else ""))
        f = self.figures.get("sudo idp down")
        if f:
            rows.append("- IdP down with sudo, module `timeout=1`: the first try waits for "
                        "the timeout, sudo's two retries get the remembered answer at once: "
                        "%.2f s in all, %d request(s) (with the default `timeout=10`, about "
                        "10 s, not 30)." % f)
        if "parallel" in self.figures:
            rows.append("- %d parallel ssh logins against Glewlwyd: %.1f s."
                        % (PARALLEL, self.figures["parallel"]))
        text = "\n".join(rows) + "\n"
        tmp = TABLE + ".tmp"
        try:
            with open(tmp, "w") as f:
                f.write(text)
            os.chmod(tmp, 0o644)
            os.replace(tmp, TABLE)
            err = None
        except OSError as e:
            err = e
        self.t.ok(err is None, "the table is written to " + os.path.relpath(TABLE, TOP), err)
        self.t.diag("---- " + os.path.relpath(TABLE, TOP))
        self.t.diag(text)


SSHD_CONFIG = """\
# sshd_config of one test_e2e.py run: loopback only, nothing from /etc/ssh.
Port {port}
ListenAddress 127.0.0.1
AddressFamily inet
HostKey {hostkey}
PidFile {pidfile}
UsePAM yes
PasswordAuthentication yes
KbdInteractiveAuthentication yes
PubkeyAuthentication no
HostbasedAuthentication no
AuthorizedKeysFile none
PermitRootLogin prohibit-password
PermitEmptyPasswords no
MaxAuthTries 6
MaxStartups 64:30:128
LoginGraceTime 60
UseDNS no
PrintMotd no
PrintLastLog no
X11Forwarding no
AllowTcpForwarding no
AllowAgentForwarding no
PermitTunnel no
PermitUserEnvironment no
AcceptEnv none
Banner none
Subsystem sftp internal-sftp
LogLevel VERBOSE
"""


def preflight():
    missing = []
    if os.geteuid() != 0:
        missing.append("root")
    for prog in (SSHD, SSH, SUDO, "/usr/bin/unshare", "/usr/bin/setpriv", "/usr/sbin/visudo",
                 "/usr/sbin/useradd", "/usr/sbin/userdel", "/usr/bin/ssh-keygen", GLEWLWYD):
        if not os.access(prog, os.X_OK):
            missing.append(prog)
    if not shutil.which(os.environ.get("CC", "cc")):
        missing.append("a C compiler (cc)")
    if not os.path.exists(MODULE):
        missing.append(MODULE + " (build the module first)")
    if not any(os.path.exists(os.path.join(d, "libpam_wrapper.so"))
               for d in ("/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib",
                         "/lib/x86_64-linux-gnu")):
        missing.append("libpam_wrapper.so (libpam-wrapper)")
    return missing


def main():
    t = Tap("e2e")
    t0 = time.monotonic()
    missing = preflight()
    if missing:
        t.ok(False, "prerequisites of the e2e layer", "missing: " + ", ".join(missing))
        return t.done()
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, on_signal)
    atexit.register(STATE.cleanup)
    e = E2E(t)
    interrupted = None
    try:
        e.setup()
        for case in (e.case_glewlwyd_ssh, e.case_unknown_user, e.case_root_junk,
                     e.case_outcomes_ssh, e.case_mfa_ssh, e.case_bang_user,
                     e.case_export_options_ssh, e.case_idp_down, e.case_parallel,
                     e.case_parallel_outage,
                     e.case_glewlwyd_sudo, e.case_outcomes_sudo, e.case_mfa_sudo,
                     e.case_no_secrets):
            try:
                case()
            except Exception as ex:   # one broken case must not hide the others
                t.ok(False, "%s ran to the end" % case.__name__, repr(ex))
        e.write_table()
    except (SystemExit, KeyboardInterrupt) as ex:
        interrupted = ex
    except Exception as ex:
        t.ok(False, "the e2e layer set up and ran", repr(ex))
    finally:
        for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(s, signal.SIG_IGN)
        STATE.cleanup()
    if interrupted is not None:
        t.ok(False, "the e2e layer ran to the end (interrupted: %r)" % interrupted)
    for n in STATE.notes:
        t.diag("observed: " + n)
    bad = STATE.leftovers()
    t.ok(not bad, "nothing left behind: no sshd/glewlwyd/test IdP process, no test user, no "
         "/etc file, no pam_wrapper dir, no temp dir", "\n".join(bad))
    t.diag("e2e layer: %.1f s" % (time.monotonic() - t0))
    rc = t.done()
    if isinstance(interrupted, SystemExit) and isinstance(interrupted.code, int):
        return interrupted.code
    return rc


if __name__ == "__main__":
    sys.exit(main())
