"""ropctest: what the Python test layers of pam_ropc share.

- TAP output (`ok N - name`, `not ok N - name` with diagnostics, `1..N`),
  read by tests/run-all, which prints the one `N passed, N failed` line.
- The loopback PKI (tests/idp/mkcerts.sh) and the scriptable test IdP
  (tests/idp/testidp.py) as a managed subprocess.
- One PAM transaction through the real libpam and the built module, under
  pam_wrapper, with a service file of the test's own: options in, password
  on stdin, and out come the PAM codes, the messages the person saw, the log
  lines (pam_wrapper turns pam_syslog into stderr lines) and the PAM
  environment.

Only loopback addresses are ever used.  Standard library only.
"""

import glob
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
BUILD = os.path.abspath(os.environ.get("ROPC_BUILDDIR", os.path.join(TOP, "build")))
MODULE = os.environ.get("ROPC_MODULE", os.path.join(BUILD, ".libs", "pam_ropc.so"))
# pam_wrapper's helper module that sets PAM items (PAM_AUTHTOK) from the
# environment, standing in for an earlier module of a stack.
SET_ITEMS = "/usr/lib/x86_64-linux-gnu/pam_wrapper/pam_set_items.so"
PAMDRIVE = os.path.join(BUILD, "tests", "pam", "pamdrive")
PYTHON = sys.executable or "python3"

PAM = {  # Linux-PAM's codes
    "PAM_SUCCESS": 0, "PAM_SERVICE_ERR": 3, "PAM_SYSTEM_ERR": 4, "PAM_BUF_ERR": 5,
    "PAM_PERM_DENIED": 6, "PAM_AUTH_ERR": 7, "PAM_CRED_INSUFFICIENT": 8,
    "PAM_AUTHINFO_UNAVAIL": 9, "PAM_USER_UNKNOWN": 10, "PAM_MAXTRIES": 11,
    "PAM_ACCT_EXPIRED": 13, "PAM_AUTHTOK_ERR": 20, "PAM_AUTHTOK_EXPIRED": 27,
    "PAM_CONV_ERR": 19, "PAM_IGNORE": 25,
}


class Tap:
    """A TAP producer.  Every check is counted; failures carry diagnostics."""

    def __init__(self, layer):
        self.layer = layer
        self.n = 0
        self.failed = 0

    def ok(self, cond, name, diag=None):
        self.n += 1
        if cond:
            print("ok %d - %s" % (self.n, name), flush=True)
        else:
            self.failed += 1
            print("not ok %d - %s" % (self.n, name), flush=True)
            if diag:
                for line in str(diag).splitlines()[:40]:
                    print("#   " + line, flush=True)
        return cond

    def eq(self, got, want, name):
        return self.ok(got == want, name, "got:  %r\nwant: %r" % (got, want))

    def diag(self, text):
        for line in str(text).splitlines():
            print("# " + line, flush=True)

    def done(self):
        print("1..%d" % self.n, flush=True)
        print("# %s: %d passed, %d failed" % (self.layer, self.n - self.failed, self.failed),
              flush=True)
        return 1 if self.failed else 0


def wait_for(pred, timeout, what, interval=0.05):
    """Poll pred() until true; raise after timeout seconds."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(interval)
    raise RuntimeError("timed out after %.1fs waiting for %s" % (timeout, what))


def free_port(host="127.0.0.1"):
    """A TCP port nothing listens on at this moment, on host (loopback)."""
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    s.bind((host, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def make_pki(workdir):
    pki = os.path.join(workdir, "pki")
    subprocess.run([os.path.join(TOP, "tests", "idp", "mkcerts.sh"), pki], check=True)
    return pki


class TestIdP:
    """tests/idp/testidp.py on 127.0.0.1 (or ::1), stopped on exit."""

    def __init__(self, workdir, pki, name="idp", cert="server", host="127.0.0.1",
                 extra=()):
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir, exist_ok=True)
        self.port_file = os.path.join(self.dir, "port")
        self.log = os.path.join(self.dir, "requests.jsonl")
        self.host = host
        args = [PYTHON, os.path.join(TOP, "tests", "idp", "testidp.py"),
                "--host", host, "--port", "0", "--port-file", self.port_file,
                "--log", self.log, "--max-lifetime", "1800"]
        if cert:
            args += ["--cert", os.path.join(pki, cert + ".pem"),
                     "--key", os.path.join(pki, cert + ".key")]
        args += list(extra)
        self.stderr = open(os.path.join(self.dir, "stderr"), "w")
        self.proc = subprocess.Popen(args, stdout=self.stderr, stderr=self.stderr)
        try:
            wait_for(lambda: os.path.exists(self.port_file) or self.proc.poll() is not None,
                     20, "the test IdP to listen")
        except RuntimeError:
            self.stop()
            raise
        if self.proc.poll() is not None:
            raise RuntimeError("test IdP exited: see " + self.dir)
        with open(self.port_file) as f:
            self.port = int(f.read().strip())

    def url(self, scenario, query=""):
        host = "[%s]" % self.host if ":" in self.host else self.host
        return "https://%s:%d/s/%s/token%s" % (host, self.port, scenario,
                                               ("?" + query) if query else "")

    def requests(self, scenario=None):
        """The logged requests (dicts), optionally only one scenario's."""
        if not os.path.exists(self.log):
            return []
        with open(self.log, "rb") as f:
            data = f.read().decode("ascii")
        out = [json.loads(l) for l in data.split("\n") if l.strip()]
        if scenario is not None:
            out = [r for r in out if r.get("scenario") == scenario]
        return out

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.stderr.close()


class Blackhole:
    """An IdP that has vanished from the network, on 127.0.0.1 and without
    a firewall: a listener with a backlog of 0 that never accepts, whose
    queue is filled at once, so that the kernel drops every further SYN
    (net.ipv4.tcp_abort_on_overflow is 0, the default) and a connect()
    waits until the client's connect timeout, as with packets dropped."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(0)
        self.port = self.sock.getsockname()[1]
        self.fill = []
        for _ in range(4):
            c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            c.setblocking(False)
            try:
                c.connect(("127.0.0.1", self.port))
            except BlockingIOError:
                pass
            self.fill.append(c)
        # The handshakes that fit complete at once; the rest are dropped.
        time.sleep(0.2)

    def url(self, path="/token"):
        return "https://127.0.0.1:%d%s" % (self.port, path)

    def stop(self):
        for c in self.fill:
            c.close()
        self.sock.close()


BREAKER_DIR = "/run/pam_ropc"


def breaker_forget(key):
    """Remove the fail-fast state the module keeps for key (the issuer or
    token_endpoint setting; files named by its SHA-256, src/breaker.h)."""
    import hashlib
    h = hashlib.sha256(key.encode()).hexdigest()
    if not os.path.isdir(BREAKER_DIR):
        return
    for n in os.listdir(BREAKER_DIR):
        if n in (h + ".down", h + ".probe") or n.startswith("." + h + "."):
            os.unlink(os.path.join(BREAKER_DIR, n))


SYSLOG_RE = re.compile(r"SYSLOG\((\d+)\): (.*)$")


class Result:
    """One pamdrive run."""

    def __init__(self, data, stderr, elapsed, rc):
        self.data = data
        self.stderr = stderr
        self.elapsed = elapsed
        self.rc = rc
        self.logs = []      # (priority, text)
        for line in stderr.splitlines():
            m = SYSLOG_RE.search(line)
            if m:
                self.logs.append((int(m.group(1)), m.group(2)))

    @property
    def auth(self):
        return self.data.get("auth")

    @property
    def env(self):
        return self.data.get("env", {})

    @property
    def messages(self):
        return self.data.get("messages", [])

    def shown(self, style="error"):
        return [m["text"] for m in self.messages if m["style"] == style]

    def auth_line(self):
        lines = [t for p, t in self.logs if t.startswith("authentication ")]
        return lines[-1] if lines else ""

    def field(self, name):
        m = re.search(r'\b%s=("((?:[^"\\]|\\.)*)"|\S+)' % re.escape(name), self.auth_line())
        if not m:
            return None
        return m.group(2) if m.group(2) is not None else m.group(1)

    def log_text(self):
        return "\n".join("<%d> %s" % (p, t) for p, t in self.logs)


class Pam:
    """Runs PAM transactions with per-test service files in a temp dir."""

    # ROPC_SANITIZE=1: the build is -fsanitize=address,undefined.  Any
    # report of theirs in a run is collected here and fails the layer.
    SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                       "SUMMARY: UndefinedBehaviorSanitizer")

    def __init__(self, workdir):
        self.sanitizer_reports = []
        self.dir = os.path.join(workdir, "pam")
        self.svcdir = os.path.join(self.dir, "services")
        os.makedirs(self.svcdir, exist_ok=True)
        self.count = 0      # files written (names of configs and services)
        self.runs = 0       # PAM applications run (what the sanitizer checks count)

    def config(self, text, mode=0o600, name=None):
        """Write a config file (root-owned as the tests run as root)."""
        self.count += 1
        path = os.path.join(self.dir, name or ("conf%d" % self.count))
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    def service(self, lines):
        """A service file; returns its name.  lines: the pam.d lines, with
        MODULE standing for the built module's path."""
        self.count += 1
        name = "ropc-test-%d" % self.count
        with open(os.path.join(self.svcdir, name), "w") as f:
            for l in lines:
                # The fail-fast breaker is shared by every process on the
                # host (/run/pam_ropc): a case must see its own IdP, not a
                # window an earlier case opened.  Off unless a line says.
                if " MODULE" in l and "fail_fast=" not in l:
                    l += " fail_fast=0"
                f.write(l.replace("SET_ITEMS", SET_ITEMS).replace("MODULE", MODULE) + "\n")
        return name

    def simple(self, args, account=False):
        lines = ["auth required MODULE " + args]
        if account:
            lines += ["account sufficient MODULE " + args,
                      "account required pam_deny.so"]
        lines += ["password required MODULE " + args]
        return self.service(lines)

    def env(self, extra_env=None):
        env = dict(os.environ)
        env.update({
            "LD_PRELOAD": "libpam_wrapper.so",
            "PAM_WRAPPER": "1",
            "PAM_WRAPPER_SERVICE_DIR": self.svcdir,
            "PAM_WRAPPER_DEBUGLEVEL": "3",
        })
        if os.environ.get("ROPC_SANITIZE") == "1":
            env.update({
                # Debian's pam_wrapper 1.1.4 reads the second name (a slip
                # in that release); later releases the first.
                "PAM_WRAPPER_DISABLE_DEEPBIND": "1",
                "UID_WRAPPER_DISABLE_DEEPBIND": "1",
                "ASAN_OPTIONS": "verify_asan_link_order=0:detect_leaks=1:abort_on_error=0:"
                                "exitcode=86",
                "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1:exitcode=86",
            })
        if extra_env:
            env.update(extra_env)
        return env

    def cleanup_wrapper_dirs(self):
        """pam_wrapper copies the service directory to /tmp/pam.X (a fixed
        template, no override) and removes it in a destructor that a killed
        or sanitizer-ended process never runs.  Remove the copies that hold
        our services and whose process is gone.  Returns how many."""
        removed = 0
        ours = set(os.listdir(self.svcdir)) if os.path.isdir(self.svcdir) else set()
        for d in glob.glob("/tmp/pam.?"):
            try:
                names = set(os.listdir(d))
                if not names & ours:
                    continue
                with open(os.path.join(d, "pid")) as f:
                    pid = int(f.read().strip() or "0")
                if pid > 0:
                    try:
                        os.kill(pid, 0)
                        continue            # still running
                    except ProcessLookupError:
                        pass
                shutil.rmtree(d, ignore_errors=True)
                removed += 1
            except (OSError, ValueError):
                continue
        return removed

    def run(self, service, user, answers=(), args=(), timeout=60, wrapper=(),
            extra_env=None):
        """user may be bytes (for names that are not UTF-8)."""
        stdin = b"".join((a.encode("utf-8") if isinstance(a, str) else a) + b"\n"
                         for a in answers)
        cmd = list(wrapper) + [PAMDRIVE, "--service", service, "--user", user] + list(args)
        self.runs += 1
        t0 = time.monotonic()
        p = subprocess.run(cmd, input=stdin, capture_output=True, timeout=timeout,
                           env=self.env(extra_env))
        elapsed = time.monotonic() - t0
        err = p.stderr.decode("utf-8", "replace")
        if any(m in err for m in self.SANITIZER_MARKS) or p.returncode == 86:
            self.sanitizer_reports.append((service, err[-4000:]))
        try:
            data = json.loads(p.stdout.decode("utf-8"))
        except ValueError:
            data = {"parse_error": p.stdout.decode("utf-8", "replace")}
        return Result(data, err, elapsed, p.returncode)


class Syslog:
    """A /dev/log stand-in: a datagram socket the test reads, for the log
    lines of setuid programs (sudo, pam_ropc_helper), which ignore
    pam_wrapper and LD_PRELOAD; tests/e2e/devns.sh puts it at /dev/log."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        os.chmod(path, 0o600)      # sudo logs with euid 0
        self.sock.settimeout(0.2)
        self.lines = []
        self.lock = threading.Lock()
        self.stop_ev = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        while not self.stop_ev.is_set():
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                break
            msg = data.decode("utf-8", "replace").rstrip("\n\0")
            m = re.match(r"<(\d+)>(.*)$", msg, re.S)
            prio, text = (int(m.group(1)) & 7, m.group(2)) if m else (-1, msg)
            with self.lock:
                self.lines.append((prio, text))

    def mark(self):
        with self.lock:
            return len(self.lines)

    def since(self, mark):
        with self.lock:
            return list(self.lines[mark:])

    def stop(self):
        self.stop_ev.set()
        self.thread.join(5)
        self.sock.close()


SAFE_TMP = "/run/ropc-tests"


def safe_tmp_root():
    """The module refuses a config, secret or trust file when a directory
    above it is writable by group or others (/tmp is 1777), as it must.
    As root the tests keep their files under /run/ropc-tests: root-owned,
    0755, every directory above it root's alone.  Not as root: the system's
    temp dir (a developer's machine; file checks then refuse)."""
    if os.geteuid() != 0:
        return None
    os.makedirs(SAFE_TMP, mode=0o755, exist_ok=True)
    st = os.lstat(SAFE_TMP)
    import stat as _stat
    if not _stat.S_ISDIR(st.st_mode) or st.st_uid != 0 or st.st_mode & 0o022:
        raise RuntimeError("%s must be a root-owned directory not writable by group or "
                           "others" % SAFE_TMP)
    return SAFE_TMP


class Workdir:
    """A temp dir removed at the end (kept with ROPC_KEEP=1), under
    safe_tmp_root() when root."""

    def __init__(self, prefix):
        self.path = tempfile.mkdtemp(prefix=prefix, dir=safe_tmp_root())
        os.chmod(self.path, 0o755)

    def cleanup(self):
        if os.environ.get("ROPC_KEEP") == "1":
            print("# kept " + self.path)
        else:
            shutil.rmtree(self.path, ignore_errors=True)
