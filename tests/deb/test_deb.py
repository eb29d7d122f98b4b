#!/usr/bin/env python3
"""The Debian package, built, installed and used through the system's own
PAM stacks, then purged.  Needs root on a Debian 12 machine; talks only to
127.0.0.1.  Output: TAP.

What it does, in order, and undoes (try/finally, atexit), checked at the
end:
- a byte-for-byte snapshot of /etc/pam.d (names, modes, link targets,
  contents) and of /etc/security/pam_ropc.conf; whatever happens, /etc/pam.d
  is put back from it and the package is purged;
- dpkg-buildpackage -us -uc -b in a copy of the source tree, lintian on the
  result;
- apt-get install ./libpam-ropc_*.deb (the profile is "Default: no": the
  stacks do not change), then /etc/security/pam_ropc.conf for Glewlwyd on
  127.0.0.1 (tests/idp/glewlwyd.sh) and pam-auth-update --enable ropc;
- pamtester login (Debian's /etc/pam.d/login) and ssh through an sshd that
  uses Debian's /etc/pam.d/sshd: alice, an IdP user with a local account
  and no local password, logs in with her IdP password;
- local logins keep working: a local user with a local password, a system
  account (below minimum_uid) with one, and root, whose password is a
  test's own in a copy of /etc/shadow mounted over it in the namespace of
  those runs (the host's file is never touched); root is never sent to
  the IdP; the same again with the IdP stopped;
- apt-get purge libpam-ropc: /etc/pam.d is what it was.
Every PAM run happens in a private mount namespace whose /dev/log is a
socket of this test (tests/e2e/devns.sh), for the module's log lines.
"""

import atexit
import glob
import json
import os
import pwd
import re
import secrets
import shutil
import socket
import stat
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from ropctest import TOP, Syslog, Tap, Workdir, free_port, wait_for  # noqa: E402

DEVNS = os.path.join(TOP, "tests", "e2e", "devns.sh")
GLEWLWYD = os.path.join(TOP, "tests", "idp", "glewlwyd.sh")
PAMD = "/etc/pam.d"
CONF = "/etc/security/pam_ropc.conf"
PKG = "libpam-ropc"
MULTIARCH = subprocess.run(["dpkg-architecture", "-qDEB_HOST_MULTIARCH"],
                           capture_output=True, text=True).stdout.strip()
MODULE = "/lib/%s/security/pam_ropc.so" % MULTIARCH
HELPER = "/usr/sbin/pam_ropc_helper"


def run(cmd, **kw):
    kw.setdefault("capture_output", True)
    kw.setdefault("timeout", 600)
    return subprocess.run(cmd, **kw)


def snapshot(top):
    """{relative path: (kind, mode, content or link target)} of a tree."""
    out = {}
    for dp, dns, fns in os.walk(top):
        for n in dns + fns:
            p = os.path.join(dp, n)
            st = os.lstat(p)
            rel = os.path.relpath(p, top)
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", 0, os.readlink(p))
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir", stat.S_IMODE(st.st_mode), None)
            else:
                with open(p, "rb") as f:
                    out[rel] = ("file", stat.S_IMODE(st.st_mode), f.read())
    return out


def restore(top, snap):
    """Make the tree exactly snap again.  Returns what it changed."""
    changed = []
    now = snapshot(top)
    for rel in sorted(set(now) - set(snap), key=len, reverse=True):
        p = os.path.join(top, rel)
        if os.path.isdir(p) and not os.path.islink(p):
            shutil.rmtree(p)
        elif os.path.lexists(p):
            os.unlink(p)
        changed.append("-" + rel)
    for rel in sorted(snap, key=len):
        kind, mode, data = snap[rel]
        if now.get(rel) == snap[rel]:
            continue
        p = os.path.join(top, rel)
        if os.path.lexists(p) and not os.path.isdir(p):
            os.unlink(p)
        if kind == "dir":
            os.makedirs(p, exist_ok=True)
            os.chmod(p, mode)
        elif kind == "link":
            os.symlink(data, p)
        else:
            with open(p, "wb") as f:
                f.write(data)
            os.chmod(p, mode)
        changed.append("~" + rel)
    return changed


class State:
    """Everything the run changes on the host, and how it goes back."""

    def __init__(self):
        self.pamd = snapshot(PAMD)
        self.conf = None
        if os.path.lexists(CONF):
            with open(CONF, "rb") as f:
                self.conf = (f.read(), stat.S_IMODE(os.lstat(CONF).st_mode))
        self.users = []
        self.procs = []
        self.glewlwyd = None
        self.made_run_sshd = False
        self.done = False

    def cleanup(self):
        if self.done:
            return
        self.done = True
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
        if self.glewlwyd:
            run([GLEWLWYD, "stop", self.glewlwyd], timeout=60)
        if run(["dpkg-query", "-W", "-f=${Status}", PKG]).stdout.decode().find("installed") >= 0:
            run(["apt-get", "purge", "-y", "-q", PKG],
                env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
        self.restored = restore(PAMD, self.pamd)
        if self.conf is None:
            if os.path.lexists(CONF):
                os.unlink(CONF)
        else:
            with open(CONF, "wb") as f:
                f.write(self.conf[0])
            os.chmod(CONF, self.conf[1])
        for u in self.users:
            run(["userdel", "-r", u], timeout=60)
        if self.made_run_sshd:
            shutil.rmtree("/run/sshd", ignore_errors=True)


class Suite:
    def __init__(self, t, st, w):
        self.t, self.st, self.w = t, st, w
        self.syslog = Syslog(os.path.join(w, "log.sock"))
        os.makedirs(os.path.join(w, "olddev"))
        self.tag = secrets.token_hex(3)

    # ------------------------------------------------------------- helpers
    def ns(self, cmd, shadow=None):
        """cmd in a private mount namespace whose /dev/log is the test's;
        with shadow, a file mounted over /etc/shadow there (root's
        password for the test, the host's file untouched)."""
        pre = ["unshare", "-m", "--propagation", "private"]
        if shadow is not None:
            pre += ["sh", "-c", 'mount --bind "$1" /etc/shadow && shift && exec "$@"', "ns",
                    shadow]
        return pre + ["sh", DEVNS, os.path.join(self.w, "olddev"), self.syslog.path] + cmd

    def root_shadow(self):
        """A copy of /etc/shadow where root's password is a test's own."""
        self.root_pw = "root " + secrets.token_hex(8)
        h = run(["openssl", "passwd", "-6", "-stdin"],
                input=self.root_pw.encode()).stdout.decode().strip()
        if not h.startswith("$6$"):
            raise RuntimeError("openssl passwd: no hash")
        with open("/etc/shadow") as f:
            lines = f.read().splitlines()
        out = []
        for line in lines:
            f = line.split(":")
            if f[0] == "root":
                f[1] = h
            out.append(":".join(f))
        path = os.path.join(self.w, "shadow")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
        with os.fdopen(fd, "w") as f:
            f.write("\n".join(out) + "\n")
        self.shadow = path

    def pamtester(self, user, password, service="login", shadow=None):
        """pamtester SERVICE USER authenticate, the password on stdin.
        (rc, module log lines)."""
        mark = self.syslog.mark()
        p = run(self.ns(["pamtester", service, user, "authenticate"], shadow),
                input=(password + "\n").encode(), timeout=120)
        time.sleep(0.3)      # the datagrams arrive
        lines = [x for _, x in self.syslog.since(mark) if "pam_ropc(" in x]
        return p.returncode, lines, p.stderr.decode(errors="replace")

    def add_user(self, name, password=None, system=False):
        cmd = ["useradd", "-M", "-s", "/bin/sh"] + (["-r"] if system else [])
        p = run(cmd + [name], timeout=60)
        if p.returncode != 0:
            raise RuntimeError("useradd %s: %s" % (name, p.stderr.decode()))
        self.st.users.append(name)
        if password is not None:
            p = run(["chpasswd"], input=("%s:%s\n" % (name, password)).encode(), timeout=60)
            if p.returncode != 0:
                raise RuntimeError("chpasswd: " + p.stderr.decode())

    @staticmethod
    def outcome(lines):
        got = [re.search(r"\boutcome=(\S+)", x) for x in lines
               if "authentication outcome=" in x]
        return [m.group(1) for m in got if m]

    # ------------------------------------------------------------- steps
    def build(self):
        t = self.t
        src = os.path.join(self.w, "src", "pam-ropc")
        os.makedirs(src)
        if os.path.isdir(os.path.join(TOP, ".git")):
            files = run(["git", "-C", TOP, "ls-files", "-z"]).stdout.decode().split("\0")
            for f in filter(None, files):
                d = os.path.join(src, os.path.dirname(f))
                os.makedirs(d, exist_ok=True)
                shutil.copy2(os.path.join(TOP, f), os.path.join(src, f), follow_symlinks=False)
        else:
            shutil.copytree(TOP, src, symlinks=True, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("build*", ".git"))
        t0 = time.monotonic()
        p = run(["dpkg-buildpackage", "-us", "-uc", "-b"], cwd=src, timeout=1200)
        debs = glob.glob(os.path.join(self.w, "src", PKG + "_*.deb"))
        t.ok(p.returncode == 0 and len(debs) == 1,
             "dpkg-buildpackage -us -uc -b builds %s (%.0f s)" % (PKG, time.monotonic() - t0),
             (p.stdout + p.stderr).decode(errors="replace")[-3000:])
        if not debs:
            raise RuntimeError("no package")
        self.deb = debs[0]
        changes = glob.glob(os.path.join(self.w, "src", "*.changes"))
        p = run(["lintian", "--fail-on", "error,warning", "--tag-display-limit", "0"] +
                changes, timeout=600)
        out = p.stdout.decode(errors="replace")
        t.ok(p.returncode == 0 and not re.search(r"^[EW]: ", out, re.M),
             "lintian: no error or warning (the overrides say why for each kept tag)", out)
        t.diag("lintian: " + (" / ".join(out.splitlines()) or "nothing to say"))
        listing = run(["dpkg-deb", "-c", self.deb]).stdout.decode()
        for path, what in ((MODULE, "the module in the multiarch PAM directory"),
                           (HELPER, "the helper"),
                           ("/usr/sbin/ropcctl", "ropcctl"),
                           ("/usr/share/man/man8/ropcctl.8.gz", "ropcctl(8)"),
                           ("/usr/share/pam-configs/ropc", "the pam-auth-update profile"),
                           ("/usr/share/man/man8/pam_ropc.8.gz", "pam_ropc(8)"),
                           ("/usr/share/man/man8/pam_ropc_helper.8.gz", "pam_ropc_helper(8)"),
                           ("/usr/share/man/man5/pam_ropc.conf.5.gz", "pam_ropc.conf(5)"),
                           ("/usr/share/doc/libpam-ropc/examples/sshd", "the examples")):
            t.ok(re.search(r" \.%s$" % re.escape(path), listing, re.M) is not None,
                 "the package holds %s (%s)" % (what, path))
        t.ok(re.search(r"^-rwsr-xr-x root/root .* \.%s$" % re.escape(HELPER), listing, re.M)
             is not None, "the helper is setuid root in the package (4755 root/root)")

    def install(self):
        t = self.t
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        p = run(["apt-get", "install", "-y", "-q", self.deb], env=env)
        t.ok(p.returncode == 0, "apt-get install ./%s" % os.path.basename(self.deb),
             (p.stdout + p.stderr).decode(errors="replace")[-2000:])
        st = os.stat(HELPER)
        t.ok(st.st_uid == 0 and stat.S_IMODE(st.st_mode) == 0o4755,
             "installed: %s is 4755 root" % HELPER)
        t.ok(snapshot(PAMD) == self.st.pamd,
             "installed: /etc/pam.d unchanged (the profile is Default: no, the module has "
             "no settings yet)")

    def configure(self):
        t = self.t
        g = os.path.join(self.w, "glewlwyd")
        p = run([GLEWLWYD, "start", g], timeout=300)
        if p.returncode != 0:
            raise RuntimeError("glewlwyd: " + (p.stdout + p.stderr).decode()[-1500:])
        self.st.glewlwyd = g
        with open(os.path.join(g, "env.json")) as f:
            self.g = json.load(f)
        text = ("# test_deb.py: Glewlwyd on 127.0.0.1\n"
                "token_endpoint = %(TOKEN_ENDPOINT)s\nca_file = %(CA_FILE)s\n"
                "client_id = %(CLIENT_ID)s\nclient_secret = %(CLIENT_SECRET)s\n"
                "scope = %(SCOPE)s\ntimeout = 5\nconnect_timeout = 2\nfail_fast = 0\n" % self.g)
        fd = os.open(CONF, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.chmod(CONF, 0o600)
        p = run(["pam-auth-update", "--enable", "ropc"],
                env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
        with open(os.path.join(PAMD, "common-auth")) as f:
            auth = f.read()
        lines = [l for l in auth.splitlines() if l and not l.startswith("#")]
        unix = [i for i, l in enumerate(lines) if "pam_unix.so" in l]
        ropc = [i for i, l in enumerate(lines) if "pam_ropc.so" in l]
        t.ok(p.returncode == 0 and unix and ropc and unix[0] < ropc[0] and
             "minimum_uid=1000" in lines[ropc[0]] and "try_first_pass" in lines[ropc[0]],
             "pam-auth-update --enable ropc: common-auth asks pam_unix, then pam_ropc "
             "(minimum_uid=1000 try_first_pass)", auth)
        p = run(["/usr/sbin/ropcctl", "check", "--service", "login"])
        out = p.stdout.decode(errors="replace")
        t.ok(p.returncode == 0 and
             re.search(r"common-auth line \d+: auth pam_ropc.so minimum_uid=1000 "
                       r"try_first_pass", out) is not None and
             "client_secret = <set, " in out and self.g["CLIENT_SECRET"] not in out,
             "the installed ropcctl check --service login: the profile's line, fine, no "
             "secret shown", out[:3000])
        # alice: an IdP user with a local account and no local password.
        self.alice = self.g["DEMO_USER"]
        try:
            pwd.getpwnam(self.alice)
        except KeyError:
            self.add_user(self.alice)
        self.local = "ropcdeb%sl" % self.tag
        self.local_pw = "local " + secrets.token_hex(6)
        self.add_user(self.local, self.local_pw)
        self.root_shadow()
        self.system = "ropcdeb%ss" % self.tag
        self.system_pw = "system " + secrets.token_hex(6)
        self.add_user(self.system, self.system_pw, system=True)

    def start_sshd(self):
        d = os.path.join(self.w, "sshd")
        os.makedirs(d)
        key = os.path.join(d, "hostkey")
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key], timeout=60)
        self.port = free_port()
        conf = os.path.join(d, "sshd_config")
        with open(conf, "w") as f:
            f.write("Port %d\nListenAddress 127.0.0.1\nHostKey %s\nPidFile %s/sshd.pid\n"
                    "UsePAM yes\nKbdInteractiveAuthentication yes\nPasswordAuthentication no\n"
                    "PubkeyAuthentication no\nAuthorizedKeysFile none\nPermitRootLogin no\n"
                    "LogLevel VERBOSE\n" % (self.port, key, d))
        if not os.path.isdir("/run/sshd"):
            os.makedirs("/run/sshd", mode=0o755)
            self.st.made_run_sshd = True
        self.sshd_log = open(os.path.join(d, "sshd.log"), "w")
        p = subprocess.Popen(self.ns(["/usr/sbin/sshd", "-D", "-e", "-f", conf]),
                             stdout=self.sshd_log, stderr=self.sshd_log)
        self.st.procs.append(p)

        def up():
            s = socket.socket()
            try:
                s.connect(("127.0.0.1", self.port))
                return True
            except OSError:
                return False
            finally:
                s.close()
        wait_for(up, 20, "sshd to listen")
        with open(key + ".pub") as f:
            pub = f.read().split()
        self.known = os.path.join(d, "known_hosts")
        with open(self.known, "w") as f:
            f.write("[127.0.0.1]:%d %s %s\n" % (self.port, pub[0], pub[1]))
        self.askpass = os.path.join(d, "askpass")
        with open(self.askpass, "w") as f:
            f.write('#!/bin/sh\nexec cat -- "$ROPC_PASSFILE"\n')
        os.chmod(self.askpass, 0o700)

    def ssh(self, user, password):
        pwfile = os.path.join(self.w, "sshd", "pw-" + secrets.token_hex(4))
        fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(password)
        env = {"PATH": "/usr/bin:/bin", "HOME": os.path.join(self.w, "sshd"), "LANG": "C",
               "SSH_ASKPASS": self.askpass, "SSH_ASKPASS_REQUIRE": "force", "DISPLAY": ":0",
               "ROPC_PASSFILE": pwfile}
        cmd = ["ssh", "-F", "/dev/null", "-T", "-p", str(self.port), "-l", user]
        for o in ("PreferredAuthentications=keyboard-interactive", "PubkeyAuthentication=no",
                  "NumberOfPasswordPrompts=1", "StrictHostKeyChecking=yes",
                  "UserKnownHostsFile=" + self.known, "GlobalKnownHostsFile=/dev/null",
                  "ConnectTimeout=20", "IdentityFile=none", "IdentitiesOnly=yes"):
            cmd += ["-o", o]
        mark = self.syslog.mark()
        p = run(cmd + ["127.0.0.1", "env"], stdin=subprocess.DEVNULL, env=env, timeout=120)
        time.sleep(0.3)
        lines = [x for _, x in self.syslog.since(mark) if "pam_ropc(" in x]
        return p.returncode, p.stdout.decode(errors="replace"), lines

    def logins(self, idp_up):
        t = self.t
        when = "IdP up" if idp_up else "IdP stopped"
        g = self.g
        if idp_up:
            rc, lines, err = self.pamtester(self.alice, g["DEMO_PASSWORD"])
            t.ok(rc == 0 and self.outcome(lines) == ["success"] and
                 any('service="login"' in x for x in lines),
                 "pamtester login %s authenticate: the IdP password logs her in through "
                 "common-auth (outcome=success)" % self.alice, "\n".join(lines) + err)
            p = run(self.ns(["/usr/sbin/ropcctl", "login", self.alice, "--service", "login"]),
                    input=(g["DEMO_PASSWORD"] + "\n").encode(), timeout=120)
            out = p.stdout.decode(errors="replace")
            t.ok(p.returncode == 0 and "outcome: success" in out and
                 g["DEMO_PASSWORD"] not in out,
                 "the installed ropcctl login %s --service login: outcome success" % self.alice,
                 out[:2000])
            rc, lines, err = self.pamtester(self.alice, "not her password")
            t.ok(rc != 0 and self.outcome(lines) == ["invalid_credentials"],
                 "pamtester login: a wrong password is refused (outcome=invalid_credentials)",
                 "\n".join(lines) + err)
            rc, out, lines = self.ssh(self.alice, g["DEMO_PASSWORD"])
            t.ok(rc == 0 and "OAUTH2_ACCESS_TOKEN=" in out and self.outcome(lines) == ["success"]
                 and any("pam_ropc(sshd:auth)" in x for x in lines),
                 "ssh %s through Debian's /etc/pam.d/sshd: logged in, the token in the "
                 "session" % self.alice, "rc %r\n%s" % (rc, "\n".join(lines)))
        else:
            rc, lines, err = self.pamtester(self.alice, g["DEMO_PASSWORD"])
            t.ok(rc != 0 and self.outcome(lines) == ["unavailable"],
                 "%s: %s is refused (outcome=unavailable, then pam_deny)" % (when, self.alice),
                 "\n".join(lines) + err)
        rc, lines, err = self.pamtester(self.local, self.local_pw)
        t.ok(rc == 0 and lines == [],
             "%s: a local user logs in with the local password, pam_ropc never asked" % when,
             "\n".join(lines) + err)
        rc, lines, err = self.pamtester(self.system, self.system_pw)
        t.ok(rc == 0 and lines == [],
             "%s: a system account (uid %d < minimum_uid) logs in with its local password"
             % (when, pwd.getpwnam(self.system).pw_uid), "\n".join(lines) + err)
        rc, lines, err = self.pamtester("root", self.root_pw, shadow=self.shadow)
        t.ok(rc == 0 and lines == [],
             "%s: root logs in with its local password (a test's own, in a namespace), "
             "pam_ropc never asked" % when, "\n".join(lines) + err)
        rc, lines, err = self.pamtester("root", "not root's password " + self.tag,
                                        shadow=self.shadow)
        t.ok(rc != 0 and self.outcome(lines) == ["system_account"],
             "%s: a wrong password for root: pam_unix refuses, pam_ropc ignores root "
             "(system_account), the IdP is never asked" % when, "\n".join(lines) + err)

    def purge(self):
        t = self.t
        p = run(["apt-get", "purge", "-y", "-q", PKG],
                env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
        t.ok(p.returncode == 0, "apt-get purge %s" % PKG,
             (p.stdout + p.stderr).decode(errors="replace")[-2000:])
        now = snapshot(PAMD)
        diff = sorted(set(now) ^ set(self.st.pamd)) + sorted(
            k for k in now if k in self.st.pamd and now[k] != self.st.pamd[k])
        t.eq(diff, [], "after the purge /etc/pam.d is byte for byte what it was before")
        t.ok(not os.path.exists(MODULE) and not os.path.exists(HELPER) and
             not os.path.exists("/usr/share/pam-configs/ropc"),
             "after the purge the module, the helper and the profile are gone")


def main():
    t = Tap("deb")
    if os.geteuid() != 0:
        t.ok(False, "test_deb.py must run as root")
        return t.done()
    for prog in ("dpkg-buildpackage", "lintian", "pamtester", "pam-auth-update",
                 "/usr/sbin/sshd", "ssh", "unshare"):
        if shutil.which(prog) is None:
            t.ok(False, "%s is installed" % prog)
            return t.done()
    if run(["dpkg-query", "-W", "-f=${Status}", PKG]).stdout.decode().find(" installed") >= 0:
        t.ok(False, "%s is not installed before the test (it would be purged)" % PKG)
        return t.done()
    st = State()
    atexit.register(st.cleanup)
    w = Workdir("ropc-deb-")
    s = None
    try:
        s = Suite(t, st, w.path)
        s.build()
        s.install()
        s.configure()
        s.start_sshd()
        s.logins(True)
        run([GLEWLWYD, "stop", st.glewlwyd], timeout=60)
        s.logins(False)
        s.purge()
    except Exception as ex:
        t.ok(False, "the package test ran to the end", repr(ex))
    finally:
        st.cleanup()
        if s is not None:
            s.syslog.stop()
        w.cleanup()
    t.eq(st.restored, [], "nothing of /etc/pam.d had to be restored at the end")
    t.ok(not os.path.exists(CONF) if st.conf is None else True,
         "/etc/security/pam_ropc.conf is as it was")
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
