#!/usr/bin/env python3
"""Self-test for testidp.py (stdlib unittest only).

    python3 tests/idp/test_testidp.py [-v]

Generates a throw-away PKI with mkcerts.sh, starts testidp.py as a
subprocess and talks to it with urllib / http.client / ssl, always verifying
the server certificate against the test CA.
"""

import base64
import hashlib
import hmac
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
TESTIDP = os.path.join(HERE, "testidp.py")
MKCERTS = os.path.join(HERE, "mkcerts.sh")
PORT_WAIT = 10.0

TMP = None
CERTS = None


def setUpModule():
    global TMP, CERTS
    TMP = tempfile.mkdtemp(prefix="testidp-selftest-")
    CERTS = os.path.join(TMP, "certs")
    subprocess.run(["sh", MKCERTS, CERTS], check=True, timeout=120)


def tearDownModule():
    if TMP:
        shutil.rmtree(TMP, ignore_errors=True)


class IdP:
    """One testidp.py subprocess."""

    counter = 0

    def __init__(self, *extra, cert="server", host="127.0.0.1", wait=True, own_tmpdir=False):
        IdP.counter += 1
        d = os.path.join(TMP, "idp%d" % IdP.counter)
        os.mkdir(d)
        self.dir = d
        env = None
        # own_tmpdir: the server's TMPDIR (where its OIDC keys go) is
        # self.tmpdir, so a test can see what it leaves behind.
        self.tmpdir = os.path.join(d, "tmp") if own_tmpdir else None
        if own_tmpdir:
            os.mkdir(self.tmpdir)
            env = dict(os.environ, TMPDIR=self.tmpdir)
        self.host = host
        self.port_file = os.path.join(d, "port")
        self.log = os.path.join(d, "requests.jsonl")
        self.events = os.path.join(d, "events.jsonl")
        cmd = [sys.executable, TESTIDP, "--host", host, "--port", "0",
               "--port-file", self.port_file, "--log", self.log, "--events", self.events]
        if cert:
            cmd += ["--cert", os.path.join(CERTS, cert + ".pem"),
                    "--key", os.path.join(CERTS, cert + ".key")]
        cmd += list(extra)
        self.stderr = open(os.path.join(d, "stderr"), "w+")
        t0 = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=self.stderr, env=env)
        self.port = None
        if wait:
            while not os.path.exists(self.port_file):
                if self.proc.poll() is not None:
                    raise RuntimeError("testidp exited early (%s): %s" % (self.proc.returncode, self.err()))
                if time.monotonic() - t0 > PORT_WAIT:
                    self.kill()
                    raise RuntimeError("testidp did not write its port file in time")
                time.sleep(0.01)
            self.startup = time.monotonic() - t0
            with open(self.port_file) as f:
                self.port = int(f.read().strip())

    def err(self):
        self.stderr.flush()
        self.stderr.seek(0)
        return self.stderr.read()

    @property
    def base(self):
        h = "[%s]" % self.host if ":" in self.host else self.host
        return "https://%s:%d" % (h, self.port)

    def url(self, scenario, query=""):
        return "%s/s/%s/token%s" % (self.base, scenario, ("?" + query) if query else "")

    def records(self):
        if not os.path.exists(self.log):
            return []
        with open(self.log, "rb") as f:
            data = f.read().decode("ascii")
        return [json.loads(line) for line in data.split("\n") if line]

    def event_records(self):
        if not os.path.exists(self.events):
            return []
        with open(self.events) as f:
            return [json.loads(line) for line in f.read().split("\n") if line]

    def stop(self, timeout=5.0):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        finally:
            self.stderr.close()
        return rc

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)


def client_ctx():
    return ssl.create_default_context(cafile=os.path.join(CERTS, "ca.pem"))


def post(url, fields=None, body=None, headers=None, timeout=10, opener=None):
    """-> (status, headers, body bytes); HTTP errors are returned, not raised."""
    if body is None:
        body = urllib.parse.urlencode(fields or {}).encode("ascii")
    req = urllib.request.Request(url, data=body, method="POST", headers=headers or {})
    op = opener or urllib.request.build_opener(urllib.request.HTTPSHandler(context=client_ctx()))
    try:
        with op.open(req, timeout=timeout) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        with e:
            return e.code, e.headers, e.read()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def raw_exchange(port, request, timeout=10.0, host="127.0.0.1"):
    """Send raw bytes over verified TLS, read until EOF or error.
    -> (bytes received, exception or None)"""
    ctx = client_ctx()
    buf = bytearray()
    exc = None
    with socket.create_connection((host, port), timeout=timeout) as s:
        with ctx.wrap_socket(s, server_hostname=host) as t:
            t.sendall(request)
            try:
                while True:
                    d = t.recv(65536)
                    if not d:
                        break
                    buf += d
            except (OSError, ssl.SSLError) as e:
                exc = e
    return bytes(buf), exc


class MainServer(unittest.TestCase):
    """Tests sharing one default server."""

    @classmethod
    def setUpClass(cls):
        cls.idp = IdP()

    @classmethod
    def tearDownClass(cls):
        pid = cls.idp.proc.pid
        rc = cls.idp.stop()
        assert rc == 0, "testidp exit status %r" % rc
        # the process is gone (reaped): signalling it must fail
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            pass
        else:
            raise AssertionError("testidp pid %d still exists after stop" % pid)

    def find(self, pred):
        return [r for r in self.idp.records() if pred(r)]

    def test_health(self):
        with urllib.request.urlopen(self.idp.base + "/health", context=client_ctx(), timeout=5) as r:
            self.assertEqual(r.status, 200)
            self.assertEqual(r.read().strip(), b"ok")

    def test_startup_fast(self):
        self.assertLess(self.idp.startup, 5.0)

    def test_ok_password_byte_exact(self):
        user = "b\u00f8b & co+%s" % os.urandom(4).hex()
        pw = "p&a=s+s%w\"o'rd  with spaces\t\u00fc \u4e2d\u6587 \U0001F511 %41+%zz=&"
        status, hdrs, body = post(self.idp.url("ok"), {
            "grant_type": "password", "username": user, "password": pw,
            "scope": "openid profile", "client_id": "cli", "client_secret": "s3cr&t"},
            headers={"Authorization": "Basic " + base64.b64encode(
                "cli%3Aent:se:cr\u00e9t".encode()).decode()})
        self.assertEqual(status, 200)
        self.assertEqual(hdrs["Cache-Control"], "no-store")
        doc = json.loads(body)
        self.assertEqual(doc["token_type"], "Bearer")
        self.assertEqual(doc["expires_in"], 3600)
        self.assertRegex(doc["access_token"], r"^[0-9a-f]{40}-")
        # The token carries the user name percent-encoded (RFC 6749 A.12:
        # an access token is printable ASCII).
        self.assertTrue(doc["access_token"].endswith(
            "-" + urllib.parse.quote(user, safe="")), doc["access_token"])
        self.assertTrue(doc["refresh_token"].startswith("r-"))
        h, p, sig = doc["id_token"].split(".")
        self.assertEqual(sig, "")
        claims = json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
        self.assertEqual(claims["preferred_username"], user)

        recs = self.find(lambda r: r["form"] and r["form"].get("username") == [user])
        self.assertEqual(len(recs), 1)
        r = recs[0]
        self.assertEqual(r["scenario"], "ok")
        self.assertEqual(r["method"], "POST")
        self.assertEqual(r["path"], "/s/ok/token")
        self.assertEqual(r["form"]["password"], [pw])
        self.assertEqual(r["form"]["grant_type"], ["password"])
        self.assertEqual(r["form"]["client_secret"], ["s3cr&t"])
        self.assertNotIn("form_error", r)
        self.assertEqual(r["form_warnings"], [])
        self.assertEqual(r["headers"]["content-type"], "application/x-www-form-urlencoded")
        self.assertEqual(r["basic_auth"], ["cli%3Aent", "se:cr\u00e9t"])
        self.assertEqual(r["basic_auth_urldecoded"], ["cli:ent", "se:cr\u00e9t"])
        self.assertEqual(base64.b64decode(r["body_raw_b64"]),
                         urllib.parse.urlencode({
                             "grant_type": "password", "username": user, "password": pw,
                             "scope": "openid profile", "client_id": "cli",
                             "client_secret": "s3cr&t"}).encode())
        self.assertEqual(r["tls_version"], "TLSv1.3")

    def test_duplicate_fields_and_form_error(self):
        tag = os.urandom(4).hex()
        post(self.idp.url("ok"), body=("username=%s&password=a&password=b" % tag).encode())
        r = self.find(lambda r: r["form"] and r["form"].get("username") == [tag])[0]
        self.assertEqual(r["form"]["password"], ["a", "b"])
        # invalid UTF-8 in a percent escape, and a raw non-ASCII byte
        for bad in (b"username=x&password=%ff" + tag.encode(), b"password=\xc3\xa9" + tag.encode()):
            post(self.idp.url("ok"), body=bad)
            r = [x for x in self.idp.records()
                 if base64.b64decode(x["body_raw_b64"]) == bad][0]
            self.assertIsNone(r["form"])
            self.assertIn("form_error", r)
        # unescaped '%' is flagged as a warning
        post(self.idp.url("ok"), body=("username=%s-w&password=100%%zz" % tag).encode())
        r = self.find(lambda r: r["form"] and r["form"].get("username") == [tag + "-w"])[0]
        self.assertTrue(any("percent" in w for w in r["form_warnings"]))

    def test_password_scenario(self):
        st, _, body = post(self.idp.url("password"), {"username": "u", "password": "correct horse"})
        self.assertEqual(st, 200)
        self.assertIn("access_token", json.loads(body))
        st, _, body = post(self.idp.url("password"), {"username": "u", "password": "correct horse "})
        self.assertEqual(st, 400)
        self.assertEqual(json.loads(body), {"error": "invalid_grant",
                                            "error_description": "Invalid user credentials"})

    def test_onelogin(self):
        st, _, body = post(self.idp.url("onelogin_invalid_creds_status"), {"password": "x"})
        self.assertEqual(st, 401)
        self.assertEqual(json.loads(body), {"status": {
            "error": True, "code": 401, "type": "Unauthorized",
            "message": "Authentication Failed: Invalid user credentials"}})
        st, _, body = post(self.idp.url("onelogin_mfa"), {"password": "x"})
        self.assertEqual(st, 400)
        self.assertEqual(json.loads(body)["error_description"], "MFA is required for this user")

    def test_entra(self):
        st, _, body = post(self.idp.url("entra_bad_password"), {"password": "x"})
        self.assertEqual(st, 400)
        doc = json.loads(body)
        self.assertEqual(doc["error"], "invalid_grant")
        self.assertEqual(doc["error_codes"], [50126])
        self.assertTrue(doc["error_description"].startswith("AADSTS50126: "))

    def test_redirect_not_followed(self):
        opener = urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=client_ctx()), NoRedirect())
        before = len(self.find(lambda r: r["path"] == "/s/ok/token"))
        st, hdrs, _ = post(self.idp.url("redirect301"), {"password": "x"}, opener=opener)
        self.assertEqual(st, 301)
        self.assertEqual(hdrs["Location"], "https://127.0.0.1:%d/s/ok/token" % self.idp.port)
        st, hdrs, _ = post(self.idp.url("redirect_http"), {"password": "x"}, opener=opener)
        self.assertEqual(st, 302)
        self.assertEqual(hdrs["Location"], "http://127.0.0.1:%d/s/ok/token" % self.idp.port)
        self.assertEqual(len(self.find(lambda r: r["path"] == "/s/ok/token")), before)

    def test_stall_times_out_client_side(self):
        t0 = time.monotonic()
        with self.assertRaises((socket.timeout, urllib.error.URLError, TimeoutError)):
            post(self.idp.url("stall"), {"password": "x"}, timeout=2)
        self.assertLess(time.monotonic() - t0, 3.5)
        self.assertTrue(self.find(lambda r: r["scenario"] == "stall"))

    def test_unknown_scenario_and_paths(self):
        st, _, body = post(self.idp.url("no_such_thing"), {"password": "x"})
        self.assertEqual(st, 404)
        self.assertEqual(json.loads(body)["error"], "unknown_scenario")
        st, _, _ = post(self.idp.base + "/elsewhere", {"password": "x"})
        self.assertEqual(st, 404)
        self.assertTrue(self.find(lambda r: r["path"] == "/elsewhere" and r["scenario"] is None))

    def test_keepalive_and_connection_close(self):
        c = http.client.HTTPSConnection("127.0.0.1", self.idp.port, context=client_ctx(), timeout=5)
        tag = os.urandom(4).hex()
        hdr = {"Content-Type": "application/x-www-form-urlencoded"}
        for i in range(2):
            c.request("POST", "/s/ok_minimal/token", body="username=%s" % tag, headers=hdr)
            r = c.getresponse()
            self.assertEqual(r.status, 200)
            r.read()
        c.request("POST", "/s/ok_minimal/token", body="username=%s" % tag,
                  headers=dict(hdr, Connection="close"))
        r = c.getresponse()
        self.assertEqual(r.getheader("Connection"), "close")
        r.read()
        c.close()
        conns = {x["conn"] for x in self.find(lambda x: x["form"] and x["form"].get("username") == [tag])}
        self.assertEqual(len(conns), 1)

    def test_delay_param(self):
        t0 = time.monotonic()
        st, _, _ = post(self.idp.url("ok_minimal", "delay=0.5"), {"password": "x"})
        self.assertEqual(st, 200)
        self.assertGreaterEqual(time.monotonic() - t0, 0.5)

    def test_every_scenario_answers_as_listed(self):
        with urllib.request.urlopen(self.idp.base + "/scenarios", context=client_ctx(), timeout=5) as r:
            listing = json.loads(r.read())
        self.assertGreater(len(listing), 80)
        body = b"grant_type=password&username=alice&password=wrong"
        special = {"stall", "stall_after_headers", "close_mid_body", "close_immediately",
                   "reset_immediately", "slow_drip", "slow_body", "chunked_huge", "close_delimited"}
        for name, status in sorted(listing.items()):
            if name in special:
                continue
            with self.subTest(scenario=name):
                c = http.client.HTTPSConnection("127.0.0.1", self.idp.port,
                                                context=client_ctx(), timeout=10)
                c.request("POST", "/s/%s/token" % name, body=body,
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
                r = c.getresponse()
                data = r.read()
                c.close()
                want = 400 if name == "password" else status
                self.assertEqual(r.status, want)
                ctype = r.getheader("Content-Type") or ""
                if ctype.startswith("application/json") and name not in (
                        "invalid_utf8", "embedded_nul_raw", "trailing_garbage", "dup_keys",
                        "deep_nesting", "deep_nesting_top", "expires_in_huge", "empty200"):
                    json.loads(data)
                if name in ("huge_body",):
                    self.assertGreater(len(data), 2 * 1024 * 1024)
                if name == "token_huge":
                    self.assertGreater(len(json.loads(data)["access_token"]), 1024 * 1024 - 1)
                if name == "big_error":
                    self.assertGreaterEqual(len(json.loads(data)["error_description"]), 600 * 1024)
                if name in ("redirect301", "redirect302", "redirect303", "redirect307", "redirect308"):
                    self.assertEqual(r.getheader("Location"),
                                     "https://127.0.0.1:%d/s/ok/token" % self.idp.port)
                if name == "http503":
                    self.assertEqual(r.getheader("Retry-After"), "120")
                if name == "rfc_invalid_client":
                    self.assertTrue(r.getheader("WWW-Authenticate"))

    def test_raw_transport_scenarios(self):
        port = self.idp.port

        def req(name, query=""):
            return ("POST /s/%s/token%s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    "Content-Type: application/x-www-form-urlencoded\r\n"
                    "Content-Length: 14\r\n\r\nusername=alice" % (name, query)).encode()

        data, exc = raw_exchange(port, req("close_immediately"))
        self.assertEqual(data, b"")

        data, exc = raw_exchange(port, req("reset_immediately"))
        self.assertEqual(data, b"")

        data, exc = raw_exchange(port, req("close_mid_body"))
        head, _, body = data.partition(b"\r\n\r\n")
        self.assertIn(b"Content-Length: 1000", head)
        self.assertEqual(len(body), 10)

        data, exc = raw_exchange(port, req("chunked_huge"))
        head, _, body = data.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 200"))
        self.assertIn(b"Transfer-Encoding: chunked", head)
        self.assertTrue(body.endswith(b"0\r\n\r\n"))
        self.assertGreater(len(body), 2 * 1024 * 1024)

        data, exc = raw_exchange(port, req("close_delimited"))
        head, _, body = data.partition(b"\r\n\r\n")
        self.assertIsNone(exc)
        self.assertTrue(head.startswith(b"HTTP/1.0 200"))
        self.assertNotIn(b"Content-Length", head)
        self.assertIn("access_token", json.loads(body))

        t0 = time.monotonic()
        data, exc = raw_exchange(port, req("slow_drip", "?interval=0.002"))
        head, _, body = data.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 200"))
        self.assertIn("access_token", json.loads(body))
        self.assertGreater(time.monotonic() - t0, 0.002 * 300)

        data, exc = raw_exchange(port, req("slow_body", "?interval=0.001"))
        self.assertIn("access_token", json.loads(data.partition(b"\r\n\r\n")[2]))

        data, exc = raw_exchange(port, req("stall_after_headers"), timeout=1.0)
        self.assertTrue(data.startswith(b"HTTP/1.1 200"))
        self.assertIsInstance(exc, (socket.timeout, TimeoutError))


class TLSAndLifecycle(unittest.TestCase):

    def test_tls_max_10(self):
        idp = IdP("--tls-max", "1.0")
        try:
            # a default client (TLS >= 1.2) must fail
            with self.assertRaises(ssl.SSLError):
                try:
                    post(idp.url("ok"), {"password": "x"}, timeout=5)
                except urllib.error.URLError as e:
                    raise e.reason
            # a legacy client proves the server really speaks TLS 1.0
            ctx = client_ctx()
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                ctx.minimum_version = ssl.TLSVersion.TLSv1
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
            with socket.create_connection(("127.0.0.1", idp.port), timeout=5) as s:
                with ctx.wrap_socket(s, server_hostname="127.0.0.1") as t:
                    self.assertEqual(t.version(), "TLSv1")
            # The server logs each handshake after the client has its
            # answer: wait for both records rather than race them.
            deadline = time.monotonic() + 5
            evs = []
            while time.monotonic() < deadline:
                evs = [e["event"] for e in idp.event_records()]
                if "tls_handshake_failed" in evs and "tls_handshake_ok" in evs:
                    break
                time.sleep(0.05)
            self.assertIn("tls_handshake_failed", evs)
            self.assertIn("tls_handshake_ok", evs)
        finally:
            self.assertEqual(idp.stop(), 0)

    def test_tls_min_13(self):
        idp = IdP("--tls-min", "1.3")
        try:
            ctx = client_ctx()
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
            with self.assertRaises(ssl.SSLError):
                with socket.create_connection(("127.0.0.1", idp.port), timeout=5) as s:
                    ctx.wrap_socket(s, server_hostname="127.0.0.1").close()
            st, _, _ = post(idp.url("ok"), {"password": "x"})
            self.assertEqual(st, 200)
        finally:
            self.assertEqual(idp.stop(), 0)

    def test_bad_certs_rejected_by_client(self):
        for cert in ("wronghost", "expired", "rogue"):
            with self.subTest(cert=cert):
                idp = IdP(cert=cert)
                try:
                    with self.assertRaises(ssl.SSLCertVerificationError):
                        try:
                            post(idp.url("ok"), {"password": "x"}, timeout=5)
                        except urllib.error.URLError as e:
                            raise e.reason
                    self.assertEqual(idp.records(), [])
                finally:
                    self.assertEqual(idp.stop(), 0)

    def test_accept_silent(self):
        idp = IdP("--plain-tcp-mode", "accept_silent", cert=None)
        try:
            t0 = time.monotonic()
            with self.assertRaises((socket.timeout, TimeoutError)):
                with socket.create_connection(("127.0.0.1", idp.port), timeout=1) as s:
                    client_ctx().wrap_socket(s, server_hostname="127.0.0.1")
            self.assertLess(time.monotonic() - t0, 3)
        finally:
            self.assertEqual(idp.stop(), 0)

    def test_plain_http(self):
        idp = IdP("--plain-tcp-mode", "plain_http", cert=None)
        try:
            c = http.client.HTTPConnection("127.0.0.1", idp.port, timeout=5)
            c.request("POST", "/s/ok/token", body="password=x",
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
            self.assertEqual(c.getresponse().status, 200)
            c.close()
            self.assertEqual(idp.records()[0]["tls_version"], None)
        finally:
            self.assertEqual(idp.stop(), 0)

    def test_ipv6_loopback(self):
        try:
            with socket.socket(socket.AF_INET6) as s6:
                s6.bind(("::1", 0))
        except OSError:
            self.skipTest("no IPv6 loopback")
        idp = IdP(host="::1")
        try:
            st, _, _ = post(idp.url("ok"), {"password": "x"})
            self.assertEqual(st, 200)
        finally:
            self.assertEqual(idp.stop(), 0)

    def test_refuses_non_loopback(self):
        for host in ("0.0.0.0", "192.0.2.1", "::", "example.com"):
            with self.subTest(host=host):
                idp = IdP(host=host, wait=False)
                rc = idp.proc.wait(10)
                idp.stderr.close()
                self.assertNotEqual(rc, 0)
                self.assertFalse(os.path.exists(idp.port_file))

    def test_sigterm_with_stalled_request(self):
        idp = IdP()
        done = threading.Event()

        def stalled():
            try:
                post(idp.url("stall"), {"password": "x"}, timeout=30)
            except Exception:
                pass
            done.set()
        threading.Thread(target=stalled, daemon=True).start()
        deadline = time.monotonic() + 5
        while not idp.records() and time.monotonic() < deadline:
            time.sleep(0.02)
        self.assertTrue(idp.records())
        t0 = time.monotonic()
        pid = idp.proc.pid
        self.assertEqual(idp.stop(), 0)
        self.assertLess(time.monotonic() - t0, 3)
        with self.assertRaises(ProcessLookupError):
            os.kill(pid, 0)
        self.assertTrue(done.wait(5), "stalled client was not released")

    def test_max_lifetime(self):
        idp = IdP("--max-lifetime", "1")
        rc = idp.proc.wait(10)
        idp.stderr.close()
        self.assertEqual(rc, 3)

    def test_oidc_keys_made_lazily_and_removed_at_exit(self):
        for how in ("sigterm", "lifetime"):
            with self.subTest(exit=how):
                idp = IdP("--max-lifetime", "2", own_tmpdir=True) if how == "lifetime" \
                    else IdP(own_tmpdir=True)
                try:
                    self.assertEqual(os.listdir(idp.tmpdir), [])     # nothing made at start
                    with urllib.request.urlopen(idp.base + "/o/rs256/jwks", context=client_ctx(),
                                                timeout=10) as r:
                        self.assertEqual(json.loads(r.read())["keys"][0]["kid"], "rsa1")
                    dirs = os.listdir(idp.tmpdir)
                    self.assertEqual(len(dirs), 1)
                    self.assertTrue(dirs[0].startswith("testidp-keys-"))
                    self.assertEqual(os.listdir(os.path.join(idp.tmpdir, dirs[0])), ["rsa1.pem"])
                    self.assertEqual(os.stat(os.path.join(idp.tmpdir, dirs[0])).st_mode & 0o077, 0)
                finally:
                    if how == "lifetime":
                        rc = idp.proc.wait(10)
                        idp.stderr.close()
                    else:
                        rc = idp.stop()
                self.assertEqual(rc, 3 if how == "lifetime" else 0)
                self.assertEqual(os.listdir(idp.tmpdir), [])

    def test_oidc_ipv6_issuer(self):
        try:
            with socket.socket(socket.AF_INET6) as s6:
                s6.bind(("::1", 0))
        except OSError:
            self.skipTest("no IPv6 loopback")
        idp = IdP(host="::1")
        try:
            with urllib.request.urlopen(idp.base + "/o/es256/.well-known/openid-configuration",
                                        context=client_ctx(), timeout=10) as r:
                doc = json.loads(r.read())
            self.assertEqual(doc["issuer"], "https://[::1]:%d/o/es256" % idp.port)
            self.assertEqual(doc["jwks_uri"], "https://[::1]:%d/o/es256/jwks" % idp.port)
        finally:
            self.assertEqual(idp.stop(), 0)


# --------------------------------------------------------------------------
# OpenID Connect side.  The checks below verify signatures on their own: a
# JWK is turned back into a SubjectPublicKeyInfo PEM here (DER written by
# this file, not by testidp.py) and `openssl dgst -verify` judges it.

def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def _der(tag, content):
    n = len(content)
    if n < 0x80:
        ln = bytes([n])
    else:
        b = n.to_bytes((n.bit_length() + 7) // 8, "big")
        ln = bytes([0x80 | len(b)]) + b
    return bytes([tag]) + ln + content


def _der_int(b):
    b = b.lstrip(b"\x00") or b"\x00"
    if b[0] & 0x80:
        b = b"\x00" + b
    return _der(0x02, b)


CURVES = {"P-256": ("2a8648ce3d030107", 32), "P-384": ("2b81040022", 48),
          "P-521": ("2b81040023", 66)}
SIG_ALGS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
            "ES256", "ES384", "ES512", "HS256", "HS384", "HS512"]


def jwk_to_pem(jwk):
    if jwk["kty"] == "RSA":
        alg = _der(0x30, _der(0x06, bytes.fromhex("2a864886f70d010101")) + b"\x05\x00")
        key = _der(0x30, _der_int(b64d(jwk["n"])) + _der_int(b64d(jwk["e"])))
    else:
        oid, _ = CURVES[jwk["crv"]]
        alg = _der(0x30, _der(0x06, bytes.fromhex("2a8648ce3d0201")) + _der(0x06, bytes.fromhex(oid)))
        key = b"\x04" + b64d(jwk["x"]) + b64d(jwk["y"])
    b = base64.b64encode(_der(0x30, alg + _der(0x03, b"\x00" + key))).decode()
    return ("-----BEGIN PUBLIC KEY-----\n" + "\n".join(b[i:i + 64] for i in range(0, len(b), 64))
            + "\n-----END PUBLIC KEY-----\n").encode()


def write_tmp(data):
    fd, path = tempfile.mkstemp(dir=TMP)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    return path


def openssl_key_bits(jwk):
    """What openssl itself says of the key a JWK describes."""
    path = write_tmp(jwk_to_pem(jwk))
    try:
        out = subprocess.run(["openssl", "pkey", "-pubin", "-in", path, "-noout", "-text"],
                             capture_output=True, check=True, timeout=30).stdout.decode()
    finally:
        os.unlink(path)
    first = out.splitlines()[0]          # "Public-Key: (2048 bit)"
    return int(first.split("(")[1].split()[0])


def split_jwt(token):
    h, p, s = token.split(".")
    return (json.loads(b64d(h)), json.loads(b64d(p)), b64d(s), ("%s.%s" % (h, p)).encode())


def verify_jws(token, jwk=None, secret=None):
    """True when token's signature holds for jwk (RS/PS/ES) or secret (HS)."""
    header, _, sig, signing_input = split_jwt(token)
    alg = header["alg"]
    md = "sha" + alg[2:]
    if alg.startswith("HS"):
        want = hmac.new(secret, signing_input, getattr(hashlib, md)).digest()
        return hmac.compare_digest(want, sig)
    if alg.startswith("ES"):
        size = CURVES[jwk["crv"]][1]
        if len(sig) != 2 * size:
            return False
        sig = _der(0x30, _der_int(sig[:size]) + _der_int(sig[size:]))
    pem, sigf = write_tmp(jwk_to_pem(jwk)), write_tmp(sig)
    try:
        cmd = ["openssl", "dgst", "-" + md, "-verify", pem, "-signature", sigf]
        if alg.startswith("PS"):
            cmd += ["-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:digest",
                    "-sigopt", "rsa_mgf1_md:" + md]
        r = subprocess.run(cmd, input=signing_input, capture_output=True, timeout=30)
        return r.returncode == 0 and b"Verified OK" in r.stdout
    finally:
        os.unlink(pem)
        os.unlink(sigf)


def basic(client, secret):
    raw = "%s:%s" % (urllib.parse.quote_plus(client), urllib.parse.quote_plus(secret))
    return "Basic " + base64.b64encode(raw.encode()).decode()


class OIDC(unittest.TestCase):
    """The /o/<profile>/... provider, one shared server."""

    @classmethod
    def setUpClass(cls):
        cls.idp = IdP(own_tmpdir=True)
        cls.opener = urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=client_ctx()), NoRedirect())

    @classmethod
    def tearDownClass(cls):
        rc = cls.idp.stop()
        assert rc == 0, "testidp exit status %r" % rc
        left = os.listdir(cls.idp.tmpdir)
        assert left == [], "key directory left behind: %r" % left

    def o(self, profile, endpoint=""):
        return "%s/o/%s%s" % (self.idp.base, profile, endpoint)

    def get(self, url, headers=None, method="GET"):
        req = urllib.request.Request(url, headers=headers or {}, method=method)
        try:
            with self.opener.open(req, timeout=10) as r:
                return r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            with e:
                return e.code, e.headers, e.read()

    def get_json(self, profile, endpoint, status=200):
        st, _, body = self.get(self.o(profile, endpoint))
        self.assertEqual(st, status, body[:300])
        return json.loads(body)

    def jwks(self, profile):
        return self.get_json(profile, "/jwks")

    def key(self, profile, kid):
        keys = [k for k in self.jwks(profile)["keys"] if k.get("kid") == kid]
        self.assertEqual(len(keys), 1, "kid %r in the JWKS of %s" % (kid, profile))
        return keys[0]

    def login(self, profile, user="alice", password="correct horse", client="cli",
              secret="s3cret", scope="openid profile", use_basic=True, status=200, **extra):
        fields = {"grant_type": "password", "username": user, "password": password}
        if scope is not None:
            fields["scope"] = scope
        headers = {}
        if use_basic:
            headers["Authorization"] = basic(client, secret)
        else:
            fields.update(client_id=client, client_secret=secret)
        fields.update(extra)
        st, hdrs, body = post(self.o(profile, "/token"), fields, headers=headers)
        self.assertEqual(st, status, body[:300])
        if st == 200:
            self.assertEqual(hdrs["Cache-Control"], "no-store")
        return json.loads(body)

    def claims(self, profile, **kw):
        doc = self.login(profile, **kw)
        return split_jwt(doc["id_token"])[1]

    def introspect(self, profile, token, auth=True, status=200):
        headers = {"Authorization": basic("cli", "s3cret")} if auth else {}
        st, _, body = post(self.o(profile, "/introspect"),
                           {"token": token, "token_type_hint": "access_token"}, headers=headers)
        self.assertEqual(st, status, body[:300])
        return body if st != 200 else json.loads(body)

    def userinfo(self, profile, token=None, status=200):
        headers = {"Authorization": "Bearer " + token} if token is not None else {}
        st, hdrs, body = self.get(self.o(profile, "/userinfo"), headers)
        self.assertEqual(st, status, body[:300])
        if st == 401:
            self.assertTrue(hdrs["WWW-Authenticate"].startswith("Bearer"))
        return json.loads(body)

    # ---- discovery and keys ------------------------------------------------
    def test_discovery_document(self):
        base = "https://127.0.0.1:%d/o/" % self.idp.port
        for prof, alg in (("rs256", "RS256"), ("es256+groups_string", "ES256"), ("hs512", "HS512")):
            with self.subTest(profile=prof):
                d = self.get_json(prof, "/.well-known/openid-configuration")
                iss = base + prof
                self.assertEqual(d["issuer"], iss)
                self.assertEqual(d["token_endpoint"], iss + "/token")
                self.assertEqual(d["jwks_uri"], iss + "/jwks")
                self.assertEqual(d["introspection_endpoint"], iss + "/introspect")
                self.assertEqual(d["userinfo_endpoint"], iss + "/userinfo")
                self.assertEqual(d["device_authorization_endpoint"], iss + "/device")
                self.assertNotIn("password", d["grant_types_supported"])
                self.assertEqual(d["id_token_signing_alg_values_supported"], [alg])
        d = self.get_json("rs256+disc_other_issuer", "/.well-known/openid-configuration")
        self.assertEqual(d["issuer"], base + "rs256+disc_other_issuer-other")
        self.assertEqual(d["token_endpoint"], base + "rs256+disc_other_issuer/token")

    def test_jwks_key_shapes(self):
        for prof, kid, kty, alg, size in (
                ("rs256", "rsa1", "RSA", "RS256", 2048), ("ps384", "rsa1", "RSA", "PS384", 2048),
                ("es256", "ec256", "EC", "ES256", 256), ("es384", "ec384", "EC", "ES384", 384),
                ("es512", "ec521", "EC", "ES512", 521), ("weak_rsa", "weak", "RSA", "RS256", 1024),
                ("hs256", "rsa1", "RSA", "RS256", 2048)):
            with self.subTest(profile=prof):
                keys = self.jwks(prof)["keys"]
                self.assertEqual([k["kid"] for k in keys], [kid])
                k = keys[0]
                self.assertEqual((k["kty"], k["use"], k["alg"]), (kty, "sig", alg))
                self.assertNotIn("d", k)
                for v in k.values():
                    self.assertNotIn("=", v)       # base64url without padding
                if kty == "RSA":
                    n = b64d(k["n"])
                    self.assertNotEqual(n[0], 0)   # no leading zero byte
                    self.assertEqual(len(n) * 8, size)
                    self.assertEqual(b64d(k["e"]), b"\x01\x00\x01")
                else:
                    crv, coord = {256: ("P-256", 32), 384: ("P-384", 48), 521: ("P-521", 66)}[size]
                    self.assertEqual(k["crv"], crv)
                    self.assertEqual(len(b64d(k["x"])), coord)
                    self.assertEqual(len(b64d(k["y"])), coord)
                self.assertEqual(openssl_key_bits(k), size)
        keys = self.jwks("rs256+jwks_extra_keys")["keys"]
        by_kid = {k["kid"]: k for k in keys}
        self.assertEqual(keys[-1]["kid"], "rsa1")
        self.assertEqual(by_kid["oct1"]["kty"], "oct")
        self.assertTrue(by_kid["oct1"]["k"])
        self.assertTrue({"d", "p", "q", "dp", "dq", "qi"} <= set(by_kid["rsa-private"]))
        self.assertEqual(by_kid["rsa-enc"]["use"], "enc")
        self.assertEqual(by_kid["rsa1"]["n"], self.key("rs256", "rsa1")["n"])
        self.assertNotEqual(by_kid["rsa-private"]["n"], by_kid["rsa1"]["n"])

    # ---- signatures --------------------------------------------------------
    def test_every_signing_alg_verifies(self):
        secret = "s3:cr&t+%"     # form-encoded in Basic; the HMAC key is the raw secret
        for alg in SIG_ALGS:
            prof = alg.lower()
            with self.subTest(alg=alg):
                tok = self.login(prof, secret=secret)["id_token"]
                header, claims, sig, _ = split_jwt(tok)
                self.assertEqual(header["alg"], alg)
                self.assertEqual(header["typ"], "JWT")
                self.assertEqual(len(sig), {"R": 256, "P": 256, "H": int(alg[2:]) // 8,
                                            "E": {"256": 64, "384": 96, "512": 132}[alg[2:]]}[alg[0]])
                h, p, s = tok.split(".")
                forged = "%s.%s.%s" % (h, base64.urlsafe_b64encode(json.dumps(
                    dict(claims, preferred_username="eve")).encode()).rstrip(b"=").decode(), s)
                if alg.startswith("HS"):
                    self.assertNotIn("kid", header)
                    self.assertTrue(verify_jws(tok, secret=secret.encode()))
                    self.assertFalse(verify_jws(tok, secret=b"s3cret"))
                    self.assertFalse(verify_jws(forged, secret=secret.encode()))
                else:
                    jwk = self.key(prof, header["kid"])
                    self.assertTrue(verify_jws(tok, jwk), "%s does not verify" % alg)
                    self.assertFalse(verify_jws(forged, jwk))
        # client_secret_post keys HS* too
        tok = self.login("hs256", use_basic=False, client="cli-post", secret="post-secret")["id_token"]
        self.assertTrue(verify_jws(tok, secret=b"post-secret"))
        self.assertEqual(split_jwt(tok)[1]["aud"], "cli-post")

    def test_forged_signatures(self):
        rsa1 = self.key("rs256", "rsa1")
        tok = self.login("alg_none")["id_token"]
        header, claims, sig, _ = split_jwt(tok)
        self.assertEqual(header["alg"], "none")
        self.assertTrue(tok.endswith("."))
        self.assertEqual(claims["preferred_username"], "alice")

        header, _, sig, si = split_jwt(self.login("hs_with_rsa_pub")["id_token"])
        self.assertEqual((header["alg"], header["kid"]), ("HS256", "rsa1"))
        self.assertEqual(hmac.new(jwk_to_pem(rsa1), si, hashlib.sha256).digest(), sig)

        tok = self.login("rogue_key")["id_token"]
        self.assertEqual(split_jwt(tok)[0]["kid"], "rsa1")
        self.assertFalse(verify_jws(tok, rsa1))
        rogue = [k for k in self.jwks("jwks_extra_keys")["keys"] if k["kid"] == "rsa-private"][0]
        self.assertTrue(verify_jws(tok, rogue))      # the rogue key it is

        tok = self.login("kid_missing")["id_token"]
        self.assertEqual(split_jwt(tok)[0]["kid"], "nope")
        self.assertTrue(verify_jws(tok, rsa1))

        tok = self.login("es256+no_kid")["id_token"]
        self.assertNotIn("kid", split_jwt(tok)[0])
        self.assertTrue(verify_jws(tok, self.key("es256", "ec256")))

        tok = self.login("tampered")["id_token"]
        self.assertEqual(split_jwt(tok)[1]["preferred_username"], "mallory")
        self.assertFalse(verify_jws(tok, rsa1))

        tok = self.login("weak_rsa")["id_token"]
        self.assertEqual(split_jwt(tok)[0]["kid"], "weak")
        self.assertTrue(verify_jws(tok, self.key("weak_rsa", "weak")))
        self.assertFalse(verify_jws(tok, rsa1))

        self.assertNotIn("id_token", self.login("no_id_token"))

    def test_claims(self):
        now = time.time()
        c = self.claims("rs256", user="alice", client="cli")
        self.assertEqual(c["iss"], "https://127.0.0.1:%d/o/rs256" % self.idp.port)
        self.assertEqual(c["sub"], "sub-" + hashlib.sha256(b"alice").hexdigest()[:16])
        self.assertEqual(c["aud"], "cli")
        self.assertNotIn("azp", c)
        self.assertNotIn("nonce", c)
        self.assertLessEqual(abs(c["iat"] - now), 5)
        self.assertEqual(c["exp"] - c["iat"], 3600)
        self.assertEqual(c["auth_time"], c["iat"])
        self.assertEqual((c["preferred_username"], c["email"]), ("alice", "alice@example.com"))
        self.assertEqual(c["groups"], ["staff", "ssh-users"])
        self.assertEqual(c["realm_access"], {"roles": ["staff", "ssh-users"]})
        c = self.claims("rs256", user="bob", client="cli:ent")   # Basic: form-urldecoded
        self.assertEqual((c["groups"], c["aud"]), (["staff"], "cli:ent"))
        self.assertEqual(self.claims("groups_string", user="bob")["groups"], "staff")
        c = self.claims("groups_string")
        self.assertEqual((c["groups"], c["realm_access"]["roles"]), ("staff,ssh-users",) * 2)
        c = self.claims("groups_missing")
        self.assertNotIn("groups", c)
        self.assertNotIn("realm_access", c)
        self.assertEqual(self.claims("user_upper", user="Alice")["preferred_username"], "ALICE")
        self.assertEqual(self.claims("user_other")["preferred_username"], "someone-else")
        self.assertNotIn("preferred_username", self.claims("user_missing"))

        c = self.claims("expired")
        self.assertLess(c["exp"], now - 3500)
        self.assertEqual(c["exp"] - c["iat"], 3600)
        self.assertGreater(self.claims("nbf_future")["nbf"], now + 500)
        self.assertGreater(self.claims("iat_future")["iat"], now + 500)
        self.assertTrue(self.claims("wrong_iss")["iss"].endswith("/o/wrong_iss-other"))
        self.assertEqual(self.claims("aud_other")["aud"], "someone-else")
        c = self.claims("multi_aud")
        self.assertEqual(c["aud"], ["cli", "other"])
        self.assertNotIn("azp", c)
        c = self.claims("multi_aud_azp")
        self.assertEqual((c["aud"], c["azp"]), (["cli", "other"], "cli"))
        self.assertEqual(self.claims("multi_aud_wrong_azp")["azp"], "other")

        self.assertEqual(self.login("rs256", scope="openid groups")["scope"], "openid groups")
        self.assertEqual(self.login("rs256", scope=None)["scope"], "openid profile email")
        self.assertEqual(self.login("scope_partial", scope="openid profile")["scope"], "openid")
        doc = self.login("rs256")
        self.assertEqual((doc["token_type"], doc["expires_in"]), ("Bearer", 3600))

    def test_token_errors(self):
        doc = self.login("rs256", password="correct horse ", status=400)
        self.assertEqual(doc, {"error": "invalid_grant", "error_description": "Invalid user credentials"})
        st, _, body = post(self.o("rs256", "/token"), {"username": "a", "password": "correct horse"})
        self.assertEqual((st, json.loads(body)["error"]), (400, "invalid_request"))
        st, _, body = post(self.o("rs256", "/token"), {"grant_type": "client_credentials"})
        self.assertEqual((st, json.loads(body)["error"]), (400, "unsupported_grant_type"))
        st, _, _ = self.get(self.o("rs256", "/token"))
        self.assertEqual(st, 405)

    def test_jwt_access_token(self):
        doc = self.login("es384+jwt_at", resource="https://api.example/")
        header, at, _, _ = split_jwt(doc["access_token"])
        self.assertEqual((header["alg"], header["kid"], header["typ"]), ("ES384", "ec384", "at+jwt"))
        self.assertTrue(verify_jws(doc["access_token"], self.key("es384+jwt_at", "ec384")))
        self.assertEqual((at["aud"], at["scope"], at["client_id"]),
                         ("https://api.example/", "openid profile", "cli"))
        self.assertEqual(at["sub"], split_jwt(doc["id_token"])[1]["sub"])
        self.assertEqual(split_jwt(self.login("jwt_at")["access_token"])[1]["aud"], "api://default")
        at = split_jwt(self.login("jwt_at+scope_partial")["access_token"])[1]
        self.assertEqual(at["scope"], "openid")
        doc = self.login("jwt_at+alg_none")
        self.assertEqual(split_jwt(doc["access_token"])[0]["alg"], "none")
        self.assertEqual(split_jwt(doc["id_token"])[0]["alg"], "none")
        at = split_jwt(self.login("jwt_at+aud_other+expired")["access_token"])[1]
        self.assertEqual(at["aud"], "someone-else")
        self.assertLess(at["exp"], time.time())
        # a JWT access token is introspectable and good for userinfo
        doc = self.login("jwt_at")
        self.assertIs(self.introspect("jwt_at", doc["access_token"])["active"], True)
        self.assertEqual(self.userinfo("jwt_at", doc["access_token"])["preferred_username"], "alice")
        self.assertTrue(doc["access_token"].count(".") == 2)
        self.assertNotIn(".", self.login("rs256")["access_token"])      # opaque by default

    def test_rotation(self):
        prof = "rs256+tag_rot%s" % os.urandom(4).hex()
        tok1 = self.login(prof)["id_token"]
        self.assertEqual(split_jwt(tok1)[0]["kid"], "rsa1")
        self.assertEqual([k["kid"] for k in self.jwks(prof)["keys"]], ["rsa1"])
        rsa1 = self.key(prof, "rsa1")
        st, _, body = post(self.idp.base + "/control/rotate", {"profile": prof})
        self.assertEqual(st, 200, body)
        tok2 = self.login(prof)["id_token"]
        self.assertEqual(split_jwt(tok2)[0]["kid"], "rsa2")
        self.assertEqual([k["kid"] for k in self.jwks(prof)["keys"]], ["rsa2"])
        rsa2 = self.key(prof, "rsa2")
        self.assertTrue(verify_jws(tok2, rsa2))
        self.assertFalse(verify_jws(tok2, rsa1))
        self.assertTrue(verify_jws(tok1, rsa1))
        self.assertNotEqual(rsa1["n"], rsa2["n"])
        # other profiles keep rsa1, the rotated one's discovery is unchanged
        self.assertEqual(split_jwt(self.login("rs256")["id_token"])[0]["kid"], "rsa1")
        self.assertEqual(self.get_json(prof, "/.well-known/openid-configuration")["jwks_uri"],
                         self.o(prof, "/jwks"))
        ctl = [r for r in self.idp.records() if r["path"] == "/control/rotate"]
        self.assertTrue(ctl)
        self.assertEqual((ctl[-1]["scenario"], ctl[-1]["endpoint"]), ("control", "control"))
        st, _, body = post(self.idp.base + "/control/rotate", {"profile": "rs256+nosuch"})
        self.assertEqual((st, json.loads(body)["flag"]), (404, "nosuch"))

    # ---- MFA -------------------------------------------------------------------
    def mfa_otp(self, profile, mfa_token, otp="123456", status=200, client="cli",
                scope="openid profile", use_basic=True):
        fields = {"grant_type": "http://auth0.com/oauth/grant-type/mfa-otp", "otp": otp}
        if mfa_token is not None:
            fields["mfa_token"] = mfa_token
        if scope is not None:
            fields["scope"] = scope
        headers = {}
        if use_basic:
            headers["Authorization"] = basic(client, "s3cret")
        else:
            fields.update(client_id=client, client_secret="s3cret")
        st, _, body = post(self.o(profile, "/token"), fields, headers=headers)
        self.assertEqual(st, status, body[:300])
        return json.loads(body)

    def test_mfa_token_round_trip(self):
        prof = "mfa_token+tag_mfa%s" % os.urandom(4).hex()
        doc = self.login(prof, user="bob", status=403)
        self.assertEqual(set(doc), {"error", "error_description", "mfa_token"})
        self.assertEqual((doc["error"], doc["error_description"]),
                         ("mfa_required", "An MFA challenge is required to complete this request."))
        mt = doc["mfa_token"]
        self.assertRegex(mt, r"^[A-Za-z0-9_-]{40,}$")
        self.assertNotEqual(self.login(prof, user="bob", status=403)["mfa_token"], mt)
        self.assertEqual(self.login(prof, password="wrong", status=400),
                         {"error": "invalid_grant", "error_description": "Invalid user credentials"})
        # wrong or missing code: 403, and the mfa_token stays good
        wrong = {"error": "invalid_grant", "error_description": "Invalid one-time password"}
        self.assertEqual(self.mfa_otp(prof, mt, "654321", status=403), wrong)
        self.assertEqual(self.mfa_otp(prof, mt, "", status=403), wrong)
        # another client cannot use it
        bad = {"error": "invalid_grant", "error_description": "Invalid mfa_token"}
        self.assertEqual(self.mfa_otp(prof, mt, client="other", status=400), bad)
        # right code (client as a form field this time): bob's login answer
        doc = self.mfa_otp(prof, mt, use_basic=False, scope="openid ssh")
        self.assertEqual((doc["token_type"], doc["expires_in"], doc["scope"]),
                         ("Bearer", 3600, "openid ssh"))
        self.assertTrue(verify_jws(doc["id_token"], self.key(prof, "rsa1")))
        c = split_jwt(doc["id_token"])[1]
        self.assertEqual((c["preferred_username"], c["aud"], c["email"], c["groups"]),
                         ("bob", "cli", "bob@example.com", ["staff"]))
        self.assertEqual(c["sub"], "sub-" + hashlib.sha256(b"bob").hexdigest()[:16])
        self.assertEqual(self.introspect(prof, doc["access_token"])["username"], "bob")
        # used up; unknown; missing
        self.assertEqual(self.mfa_otp(prof, mt, status=400), bad)
        self.assertEqual(self.mfa_otp(prof, "no-such-token", status=400), bad)
        self.assertEqual(self.mfa_otp(prof, None, status=400)["error"], "invalid_request")
        # another profile's token is unknown here
        mt2 = self.login(prof, status=403)["mfa_token"]
        self.assertEqual(self.mfa_otp("mfa_token", mt2, status=400), bad)
        # no scope in the second step: the password grant's
        mt3 = self.login(prof, scope="openid groups", status=403)["mfa_token"]
        self.assertEqual(self.mfa_otp(prof, mt3, scope=None)["scope"], "openid groups")
        # the grant is known only where mfa_token is set
        self.assertEqual(self.mfa_otp("rs256", mt2, status=400)["error"], "unsupported_grant_type")
        d = self.get_json(prof, "/.well-known/openid-configuration")
        self.assertIn("http://auth0.com/oauth/grant-type/mfa-otp", d["grant_types_supported"])
        d = self.get_json("rs256", "/.well-known/openid-configuration")
        self.assertNotIn("http://auth0.com/oauth/grant-type/mfa-otp", d["grant_types_supported"])

    def test_mfa_sub_flags(self):
        bad = {"error": "invalid_grant", "error_description": "Invalid mfa_token"}
        mt = self.login("mfa_token+mfa_expired", status=403)["mfa_token"]
        self.assertEqual(self.mfa_otp("mfa_token+mfa_expired", mt, status=400), bad)
        self.assertEqual(self.mfa_otp("mfa_token+mfa_expired", mt, "000000", status=400), bad)
        prof = "es256+mfa_token+mfa_other_user"
        mt = self.login(prof, user="alice", status=403)["mfa_token"]
        doc = self.mfa_otp(prof, mt)
        self.assertTrue(verify_jws(doc["id_token"], self.key(prof, "ec256")))
        c = split_jwt(doc["id_token"])[1]
        self.assertEqual((c["preferred_username"], c["email"], c["sub"]),
                         ("mallory", "mallory@example.com",
                          "sub-" + hashlib.sha256(b"mallory").hexdigest()[:16]))
        r = self.introspect(prof, doc["access_token"])
        self.assertEqual((r["username"], r["sub"]), ("mallory", c["sub"]))
        self.assertEqual(self.userinfo(prof, doc["access_token"])["preferred_username"], "mallory")
        doc = self.login("mfa_token+mfa_no_token", status=403)
        self.assertEqual(doc, {"error": "mfa_required", "error_description":
                               "An MFA challenge is required to complete this request."})
        for prof in ("mfa_expired", "rs256+mfa_other_user", "mfa_no_token"):
            with self.subTest(profile=prof):
                st, _, body = self.get(self.o(prof, "/jwks"))
                self.assertEqual(st, 404)
                self.assertEqual(json.loads(body)["error"], "conflicting_flags")
        for prof in ("mfa_token+otp_param", "otp_param+otp_param_totp", "otp_append+otp_append_colon",
                     "mfa_required_only+mfa_token", "device_auto+device_auto_bob",
                     "device_interval_none+device_interval_2"):
            with self.subTest(profile=prof):
                st, _, body = self.get(self.o(prof, "/jwks"))
                self.assertEqual(st, 404)
                self.assertEqual(json.loads(body)["error"], "conflicting_flags")

    def test_mfa_required_only(self):
        st, hdrs, body = post(self.o("mfa_required_only", "/token"), {
            "grant_type": "password", "username": "alice", "password": "correct horse",
            "client_id": "cli"})
        self.assertEqual(st, 400)
        self.assertEqual(hdrs["Content-Type"], "application/json; charset=utf-8")
        doc = json.loads(body)
        self.assertEqual((doc["error"], doc["error_codes"]), ("invalid_grant", [50076]))
        self.assertTrue(doc["error_description"].startswith(
            "AADSTS50076: Due to a configuration change made by your administrator, or because "
            "you moved to a new location, you must use multi-factor authentication to access "),
            doc["error_description"])
        self.assertNotIn("mfa_token", doc)
        self.assertEqual(self.login("mfa_required_only", password="x", status=400),
                         {"error": "invalid_grant", "error_description": "Invalid user credentials"})

    def test_otp_param(self):
        invalid = {"error": "invalid_grant", "error_description": "Invalid user credentials"}
        prof = "otp_param+tag_otp%s" % os.urandom(4).hex()
        doc = self.login(prof, user="bob", otp="123456")
        self.assertEqual(split_jwt(doc["id_token"])[1]["preferred_username"], "bob")
        for pw, extra in (("correct horse", {}), ("correct horse", {"otp": "123457"}),
                          ("correct horse", {"otp": ""}), ("wrong", {"otp": "123456"}),
                          ("wrong", {}), ("correct horse", {"totp": "123456"}),
                          ("correct horse123456", {})):
            with self.subTest(password=pw, extra=extra):
                self.assertEqual(self.login(prof, password=pw, status=401, **extra), invalid)
        recs = [r for r in self.idp.records() if r["scenario"] == prof]
        self.assertEqual(recs[0]["form"]["otp"], ["123456"])
        self.assertEqual(recs[0]["form"]["password"], ["correct horse"])
        self.login("otp_param_totp", totp="123456")
        self.assertEqual(self.login("otp_param_totp", otp="123456", status=401), invalid)
        self.assertEqual(self.login("otp_param_totp", status=401), invalid)

    def test_otp_append(self):
        invalid = {"error": "invalid_grant", "error_description": "Invalid user credentials"}
        doc = self.login("otp_append", user="bob", password="correct horse123456")
        self.assertEqual(split_jwt(doc["id_token"])[1]["preferred_username"], "bob")
        self.login("otp_append_colon", password="correct horse:123456")
        for prof, pw in (("otp_append", "correct horse"), ("otp_append", "correct horse:123456"),
                         ("otp_append", "correct horse123457"),
                         ("otp_append_colon", "correct horse123456"),
                         ("otp_append_colon", "correct horse"),
                         ("otp_append_colon", "correct horse:")):
            with self.subTest(profile=prof, password=pw):
                self.assertEqual(self.login(prof, password=pw, status=400), invalid)
        # a separate code parameter does not help
        self.assertEqual(self.login("otp_append", otp="123456", status=400), invalid)

    # ---- introspection and userinfo ------------------------------------------
    def test_introspection(self):
        doc = self.login("rs256", user="bob", scope="openid ssh")
        at = doc["access_token"]
        r = self.introspect("rs256", at)
        self.assertIs(r["active"], True)
        self.assertEqual(r["sub"], "sub-" + hashlib.sha256(b"bob").hexdigest()[:16])
        self.assertEqual((r["username"], r["client_id"], r["scope"]), ("bob", "cli", "openid ssh"))
        self.assertEqual(r["iss"], "https://127.0.0.1:%d/o/rs256" % self.idp.port)
        self.assertEqual(r["aud"], "api://default")
        self.assertGreater(r["exp"], time.time() + 3000)
        self.assertLessEqual(r["iat"], time.time())
        self.assertEqual(r["groups"], ["staff"])
        self.assertEqual(self.introspect("rs256", "no-such-token"), {"active": False})
        self.assertEqual(self.introspect("es256", at), {"active": False})   # another issuer's
        self.introspect("rs256", at, auth=False, status=401)
        st, _, body = post(self.o("rs256", "/introspect"), {"token": at, "client_id": "cli",
                                                             "client_secret": "s3cret"})
        self.assertIs(json.loads(body)["active"], True)                    # client_secret_post

        def intro(prof, **kw):
            return self.introspect(prof, self.login(prof, **kw)["access_token"])
        self.assertEqual(intro("intro_inactive"), {"active": False})
        self.assertEqual(intro("intro_active_string")["active"], "true")
        self.assertEqual(intro("intro_other_client")["client_id"], "someone-else")
        r = intro("intro_clientId")
        self.assertEqual(r["clientId"], "cli")
        self.assertNotIn("client_id", r)
        r = intro("intro_expired")
        self.assertIs(r["active"], True)
        self.assertLess(r["exp"], time.time())
        r = intro("intro_huge+user_upper+groups_string", user="carol")
        self.assertIs(r["active"], True)
        self.assertEqual((r["username"], r["groups"]), ("CAROL", "staff,ssh-users"))
        self.assertNotIn("username", intro("user_missing"))
        prof = "intro_500"
        at = self.login(prof)["access_token"]
        self.introspect(prof, at, status=500)
        st, _, body = post(self.o("intro_huge", "/introspect"), {"token": "x"},
                           headers={"Authorization": basic("cli", "s")})
        self.assertGreater(len(body), 300 * 1024)
        self.assertEqual(json.loads(body)["active"], False)

    def test_userinfo(self):
        doc = self.login("rs256", user="bob")
        u = self.userinfo("rs256", doc["access_token"])
        self.assertEqual(u["sub"], split_jwt(doc["id_token"])[1]["sub"])
        self.assertEqual((u["preferred_username"], u["email"], u["groups"]),
                         ("bob", "bob@example.com", ["staff"]))
        self.assertEqual(self.userinfo("rs256", status=401)["error"], "invalid_token")
        self.userinfo("rs256", "not-a-token", status=401)
        self.userinfo("es256", doc["access_token"], status=401)             # another issuer's
        st, _, body = post(self.o("rs256", "/userinfo"), {},
                           headers={"Authorization": "Bearer " + doc["access_token"]})
        self.assertEqual(st, 200)
        doc = self.login("userinfo_other_sub")
        u = self.userinfo("userinfo_other_sub", doc["access_token"])
        self.assertNotEqual(u["sub"], split_jwt(doc["id_token"])[1]["sub"])
        self.assertEqual(u["preferred_username"], "alice")
        doc = self.login("groups_missing+user_other", user="alice")
        u = self.userinfo("groups_missing+user_other", doc["access_token"])
        self.assertNotIn("groups", u)
        self.assertEqual(u["preferred_username"], "someone-else")

    # ---- hostile discovery / JWKS ----------------------------------------------
    def test_hostile_discovery_and_jwks(self):
        disc = "/.well-known/openid-configuration"
        for what, ep in (("disc", disc), ("jwks", "/jwks")):
            with self.subTest(what=what):
                st, _, body = self.get(self.o(what + "_huge", ep))
                self.assertEqual(st, 200)
                self.assertGreater(len(body), 300 * 1024)
                doc = json.loads(body)
                self.assertIn("issuer" if what == "disc" else "keys", doc)
                st, hdrs, _ = self.get(self.o(what + "_redirect", ep))
                self.assertEqual(st, 302)
                loc = hdrs["Location"]
                self.assertEqual(loc, self.o(what + "_redirect", ep) + "?redirected=1")
                st, _, body = self.get(loc)
                self.assertEqual(st, 200)
                json.loads(body)
                st, _, body = self.get(self.o(what + "_500", ep))
                self.assertEqual(st, 500)
                st, hdrs, body = self.get(self.o(what + "_garbage", ep))
                self.assertEqual(st, 200)
                self.assertTrue(hdrs["Content-Type"].startswith("application/json"))
                with self.assertRaises(ValueError):
                    json.loads(body)
        # hostility of one endpoint leaves the others alone
        self.assertEqual(self.jwks("disc_500")["keys"][0]["kid"], "rsa1")
        self.get_json("jwks_garbage", disc)

    # ---- log, errors ---------------------------------------------------------
    def test_endpoint_field_in_log(self):
        prof = "es256+tag_log%s" % os.urandom(4).hex()
        self.get(self.o(prof, "/.well-known/openid-configuration"))
        self.jwks(prof)
        doc = self.login(prof)
        self.introspect(prof, doc["access_token"])
        self.userinfo(prof, doc["access_token"])
        self.userinfo(prof, status=401)
        st, _, body = post(self.o(prof, "/device"), {"client_id": "cli", "scope": "openid"})
        self.assertEqual(st, 200)
        self.assertIn("device_code", json.loads(body))
        recs = [r for r in self.idp.records() if r["scenario"] == prof]
        counts = {}
        for r in recs:
            counts[r["endpoint"]] = counts.get(r["endpoint"], 0) + 1
        self.assertEqual(counts, {"discovery": 1, "jwks": 1, "token": 1, "introspect": 1,
                                  "userinfo": 2, "device": 1})
        tok = [r for r in recs if r["endpoint"] == "token"][0]
        self.assertEqual(tok["path"], "/o/%s/token" % prof)
        self.assertEqual(tok["form"]["username"], ["alice"])
        self.assertEqual(tok["basic_auth_urldecoded"], ["cli", "s3cret"])

    def test_unknown_and_conflicting_flags(self):
        for prof, err, flag in (("rs256+no_such_flag", "unknown_flag", "no_such_flag"),
                                ("Rs256", "unknown_flag", "Rs256"),
                                ("rs256++groups_array", "unknown_flag", ""),
                                ("tag_<word>", "unknown_flag", "tag_<word>")):
            for ep in ("/.well-known/openid-configuration", "/jwks", "/token"):
                with self.subTest(profile=prof, endpoint=ep):
                    st, _, body = self.get(self.o(prof, ep)) if ep != "/token" else \
                        post(self.o(prof, ep), {"grant_type": "password", "password": "correct horse"})
                    self.assertEqual(st, 404)
                    doc = json.loads(body)
                    self.assertEqual((doc["error"], doc["flag"]), (err, flag))
        for prof in ("rs256+es256", "aud_other+multi_aud", "es256+rogue_key", "hs256+weak_rsa",
                     "ps512+weak_rsa", "jwt_at+jwt_at", "user_upper+user_missing"):
            with self.subTest(profile=prof):
                st, _, body = self.get(self.o(prof, "/jwks"))
                self.assertEqual(st, 404)
                self.assertEqual(json.loads(body)["error"], "conflicting_flags")
        st, _, body = self.get(self.o("rs256", "/nowhere"))
        self.assertEqual(st, 404)
        st, _, _ = self.get(self.o("rs256+tag_x-1.2"))
        self.assertEqual(st, 404)
        self.assertEqual(self.jwks("rs256+tag_x-1.2+groups_string")["keys"][0]["kid"], "rsa1")
        # the /s/ scenarios are untouched
        st, _, _ = post(self.idp.url("ok"), {"password": "x"})
        self.assertEqual(st, 200)

    def test_concurrent_first_use(self):
        # many first requests at once for a key not yet made (the tests
        # run in name order: ec384 is first used here)
        results = []

        def one():
            try:
                doc = self.login("es384+tag_conc")
                results.append(split_jwt(doc["id_token"])[0]["kid"])
            except Exception as e:       # reported below
                results.append(repr(e))
        ts = [threading.Thread(target=one) for _ in range(8)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(30)
        self.assertEqual(results, ["ec384"] * 8)
        made = [e for e in self.idp.event_records()
                if e["event"] == "oidc_key_generated" and e["key"] == "ec384"]
        self.assertEqual(len(made), 1)


USER_CODE_RE = r"^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


class DeviceFlow(unittest.TestCase):
    """RFC 8628 at /o/<profile>/device and the token endpoint, one server.
    Two device_short codes are made in setUpClass; test_zz_expiry (last, in
    name order) only waits for what is left of their 10 s."""

    @classmethod
    def setUpClass(cls):
        cls.idp = IdP()
        cls.t0 = time.monotonic()
        cls.short = [cls.device_cls("device_short+tag_exp") for _ in range(2)]
        st, doc = cls.control_cls(cls.short[1]["user_code"], "approve", "alice")
        assert st == 200, doc

    @classmethod
    def tearDownClass(cls):
        rc = cls.idp.stop()
        assert rc == 0, "testidp exit status %r" % rc

    @classmethod
    def device_cls(cls, profile, client="cli", scope="openid profile"):
        st, _, body = post("%s/o/%s/device" % (cls.idp.base, profile),
                           {"client_id": client, "scope": scope})
        assert st == 200, body
        return json.loads(body)

    @classmethod
    def control_cls(cls, user_code, action, user=None, **extra):
        fields = {"user_code": user_code, "action": action}
        if user is not None:
            fields["user"] = user
        fields.update(extra)
        st, _, body = post(cls.idp.base + "/control/device", fields)
        return st, json.loads(body)

    def o(self, profile, endpoint=""):
        return "%s/o/%s%s" % (self.idp.base, profile, endpoint)

    def device(self, profile, client="cli", scope="openid profile"):
        doc = self.device_cls(profile, client, scope)
        self.assertRegex(doc["user_code"], USER_CODE_RE)
        return doc

    def control(self, user_code, action, user=None, status=200, **extra):
        st, doc = self.control_cls(user_code, action, user, **extra)
        self.assertEqual(st, status, doc)
        return doc

    def state(self, status=200, **q):
        url = self.idp.base + "/control/device?" + urllib.parse.urlencode(q)
        try:
            with urllib.request.urlopen(url, context=client_ctx(), timeout=10) as r:
                st, body = r.status, r.read()
        except urllib.error.HTTPError as e:
            with e:
                st, body = e.code, e.read()
        self.assertEqual(st, status, body)
        return json.loads(body)

    def poll(self, profile, device_code, status=400, client="cli", use_basic=False):
        fields = {"grant_type": DEVICE_GRANT}
        if device_code is not None:
            fields["device_code"] = device_code
        headers = {}
        if use_basic:
            headers["Authorization"] = basic(client, "s3cret")
        else:
            fields["client_id"] = client
        st, hdrs, body = post(self.o(profile, "/token"), fields, headers=headers)
        self.assertEqual(st, status, body[:300])
        self.assertEqual(hdrs["Cache-Control"], "no-store")
        doc = json.loads(body)
        return doc if st == 200 else doc["error"]

    def gap(self):
        time.sleep(1.05)        # the default interval (1 s) and a little

    # ----------------------------------------------------------------------
    def test_authorization_answer(self):
        prof = "rs256+tag_dev%s" % os.urandom(4).hex()
        iss = self.o(prof)
        doc = self.device(prof, scope="openid ssh")
        self.assertEqual(set(doc), {"device_code", "user_code", "verification_uri",
                                    "verification_uri_complete", "expires_in", "interval"})
        self.assertEqual(doc["verification_uri"], iss + "/activate")
        self.assertEqual(doc["verification_uri_complete"],
                         iss + "/activate?user_code=" + doc["user_code"])
        self.assertEqual((doc["expires_in"], doc["interval"]), (600, 1))
        self.assertRegex(doc["device_code"], r"^[A-Za-z0-9_-]{40,}$")
        other = self.device(prof)
        self.assertNotEqual(other["device_code"], doc["device_code"])
        self.assertNotEqual(other["user_code"], doc["user_code"])
        st = self.state(user_code=doc["user_code"])
        self.assertEqual((st["profile"], st["device_code"], st["client_id"], st["scope"],
                          st["state"], st["user"], st["interval"], st["expires_in"],
                          st["polls"], st["slow_downs"]),
                         (prof, doc["device_code"], "cli", "openid ssh", "pending", None, 1, 600,
                          0, 0))
        self.assertLess(abs(st["created"] - time.time()), 5)
        self.assertEqual(self.state(device_code=doc["device_code"])["user_code"], doc["user_code"])
        self.assertEqual(self.state(device_code=doc["device_code"], profile=prof)["profile"], prof)
        self.state(device_code=doc["device_code"], profile="rs256", status=404)
        self.state(user_code="BBBB-BBBB-X", status=404)
        self.state(status=400)
        # the client by Basic; none at all -> 401
        st, _, body = post(self.o(prof, "/device"), {"scope": "openid"},
                           headers={"Authorization": basic("cli b", "x")})
        self.assertEqual(st, 200)
        self.assertEqual(self.state(user_code=json.loads(body)["user_code"])["client_id"], "cli b")
        st, _, body = post(self.o(prof, "/device"), {"scope": "openid"})
        self.assertEqual((st, json.loads(body)["error"]), (401, "invalid_client"))
        req = urllib.request.Request(self.o(prof, "/device"), method="GET")
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urllib.request.urlopen(req, context=client_ctx(), timeout=10)
        self.assertEqual(cm.exception.code, 405)
        cm.exception.close()
        # interval flags
        self.assertEqual(self.device("device_interval_2")["interval"], 2)
        doc = self.device("device_interval_none")
        self.assertNotIn("interval", doc)
        self.assertEqual(self.state(user_code=doc["user_code"])["interval"], 5)
        self.assertEqual(self.device("device_short")["expires_in"], 10)
        # discovery names the endpoint
        with urllib.request.urlopen(self.o(prof, "/.well-known/openid-configuration"),
                                    context=client_ctx(), timeout=10) as r:
            d = json.loads(r.read())
        self.assertEqual(d["device_authorization_endpoint"], iss + "/device")
        self.assertIn(DEVICE_GRANT, d["grant_types_supported"])

    def test_pending_then_approve(self):
        prof = "es256+tag_dev%s" % os.urandom(4).hex()
        doc = self.device(prof, scope="openid ssh")
        dc, uc = doc["device_code"], doc["user_code"]
        self.assertEqual(self.poll(prof, dc), "authorization_pending")
        # unknown, missing, another profile's, another client's
        self.assertEqual(self.poll(prof, "no-such-code"), "invalid_grant")
        self.assertEqual(self.poll(prof, None), "invalid_request")
        self.assertEqual(self.poll("es256", dc), "invalid_grant")
        self.assertEqual(self.poll(prof, dc, client="other"), "invalid_grant")
        # the person approves as bob (code typed in lower case, no dash)
        r = self.control(uc.replace("-", "").lower(), "approve", "bob")
        self.assertEqual(r, {"profile": prof, "user_code": uc, "state": "approved", "user": "bob"})
        self.assertEqual(self.control(uc, "approve", "alice", status=409)["state"], "approved")
        self.gap()
        tok = self.poll(prof, dc, status=200, use_basic=True)
        self.assertEqual((tok["token_type"], tok["expires_in"], tok["scope"]),
                         ("Bearer", 3600, "openid ssh"))
        c = split_jwt(tok["id_token"])[1]
        self.assertEqual((c["preferred_username"], c["aud"], c["iss"], c["groups"]),
                         ("bob", "cli", self.o(prof), ["staff"]))
        st, _, body = post(self.o(prof, "/introspect"), {"token": tok["access_token"]},
                           headers={"Authorization": basic("cli", "s3cret")})
        self.assertEqual((json.loads(body)["active"], json.loads(body)["username"]), (True, "bob"))
        self.gap()
        self.assertEqual(self.poll(prof, dc), "invalid_grant")      # once only
        st = self.state(user_code=uc)
        self.assertEqual((st["state"], st["user"], st["polls"]), ("used", "bob", 2))
        self.assertEqual(self.control(uc, "deny", status=409)["state"], "used")
        # each poll is logged (endpoint token) with its time
        polls = [r for r in self.idp.records() if r["scenario"] == prof
                 and r["endpoint"] == "token" and r["form"].get("device_code") == [dc]]
        self.assertEqual(len(polls), 4)     # first, other client, tokens, used
        self.assertTrue(all(isinstance(r["time"], float) for r in polls))

    def test_deny(self):
        prof = "tag_dev%s" % os.urandom(4).hex()
        doc = self.device(prof)
        self.assertEqual(self.control(doc["user_code"], "deny")["state"], "denied")
        self.assertEqual(self.poll(prof, doc["device_code"]), "access_denied")
        self.assertEqual(self.poll(prof, doc["device_code"]), "access_denied")  # even too soon
        self.assertEqual(self.control(doc["user_code"], "approve", "alice", status=409)["state"],
                         "denied")
        self.assertEqual(self.state(user_code=doc["user_code"])["state"], "denied")

    def test_control_errors(self):
        doc = self.device("rs256")
        uc = doc["user_code"]
        self.assertEqual(self.control("BBBB-BBBB", "approve", "alice", status=404)["error"],
                         "unknown_user_code")
        self.assertEqual(self.control(uc, "allow", "alice", status=400)["error"], "invalid_request")
        self.assertEqual(self.control(uc, "approve", status=400)["error"], "invalid_request")
        self.assertEqual(self.control("", "approve", "alice", status=400)["error"],
                         "invalid_request")
        self.assertEqual(self.control(uc, "approve", "alice", status=404, profile="es256")["error"],
                         "unknown_user_code")
        self.assertEqual(self.state(user_code=uc)["state"], "pending")
        self.control(uc, "approve", "alice", profile="rs256")
        ctl = [r for r in self.idp.records() if r["path"] == "/control/device"]
        self.assertTrue(ctl)
        self.assertEqual((ctl[-1]["scenario"], ctl[-1]["endpoint"]), ("control", "control"))

    def test_slow_down_growth(self):
        prof = "tag_dev%s" % os.urandom(4).hex()
        dc = self.device(prof)["device_code"]
        self.assertEqual(self.poll(prof, dc), "authorization_pending")
        self.assertEqual(self.poll(prof, dc), "slow_down")              # sooner than 1 s
        st = self.state(device_code=dc)
        self.assertEqual((st["interval"], st["slow_downs"]), (6, 1))
        time.sleep(6.05)                                                 # the new interval
        self.assertEqual(self.poll(prof, dc), "authorization_pending")
        time.sleep(1.2)                                                  # enough before, not now
        self.assertEqual(self.poll(prof, dc), "slow_down")
        st = self.state(device_code=dc)
        self.assertEqual((st["interval"], st["slow_downs"], st["polls"]), (11, 2, 4))
        times = [r["time"] for r in self.idp.records() if r["scenario"] == prof
                 and r["endpoint"] == "token"]
        self.assertEqual(len(times), 4)
        self.assertGreaterEqual(times[2] - times[1], 6.0)
        self.assertLess(times[1] - times[0], 1.0)
        # device_slow_down: the very first poll
        dc = self.device("device_slow_down")["device_code"]
        self.assertEqual(self.poll("device_slow_down", dc), "slow_down")
        self.assertEqual(self.state(device_code=dc)["interval"], 6)
        # no interval in the answer: the server expects 5 s
        dc = self.device("device_interval_none")["device_code"]
        self.assertEqual(self.poll("device_interval_none", dc), "authorization_pending")
        time.sleep(1.2)
        self.assertEqual(self.poll("device_interval_none", dc), "slow_down")
        self.assertEqual(self.state(device_code=dc)["interval"], 10)

    def test_device_auto(self):
        codes = {p: self.device(p)["device_code"] for p in ("device_auto", "device_auto_bob")}
        for _ in range(2):
            for p, dc in codes.items():
                self.assertEqual(self.poll(p, dc), "authorization_pending")
            self.gap()
        for p, user in (("device_auto", "alice"), ("device_auto_bob", "bob")):
            with self.subTest(profile=p):
                self.assertEqual(self.state(device_code=codes[p])["state"], "approved")
                tok = self.poll(p, codes[p], status=200)
                self.assertEqual(split_jwt(tok["id_token"])[1]["preferred_username"], user)
        # no approval without polls
        uc = self.device("device_auto")["user_code"]
        self.assertEqual(self.state(user_code=uc)["state"], "pending")

    def test_activate_page(self):
        prof = "tag_act%s" % os.urandom(4).hex()
        doc = self.device(prof, client="<cli>")
        for url, code, want in ((doc["verification_uri_complete"], 200, doc["user_code"]),
                                (doc["verification_uri"], 200, 'name="user_code"'),
                                (doc["verification_uri"] + "?user_code=BBBB-BBBB", 404, "Unknown")):
            with self.subTest(url=url):
                try:
                    with urllib.request.urlopen(url, context=client_ctx(), timeout=10) as r:
                        st, hdrs, body = r.status, r.headers, r.read().decode()
                except urllib.error.HTTPError as e:
                    with e:
                        st, hdrs, body = e.code, e.headers, e.read().decode()
                self.assertEqual(st, code)
                self.assertTrue(hdrs["Content-Type"].startswith("text/html"))
                self.assertIn(want, body)
                self.assertNotIn("<cli>", body)              # escaped
        self.assertIn("activate", [r.get("endpoint") for r in self.idp.records()
                                   if r["scenario"] == prof])

    def test_zz_expiry(self):
        left = self.t0 + 10.1 - time.monotonic()
        pending, approved = self.short
        if left > 0.5:          # still young: pending (and not expired)
            self.assertEqual(self.poll("device_short+tag_exp", pending["device_code"]),
                             "authorization_pending")
            left = self.t0 + 10.1 - time.monotonic()
        if left > 0:
            time.sleep(left)
        self.assertEqual(self.poll("device_short+tag_exp", pending["device_code"]),
                         "expired_token")
        # approved but never collected in time: expired too
        self.assertEqual(self.poll("device_short+tag_exp", approved["device_code"]),
                         "expired_token")
        self.assertEqual(self.state(user_code=pending["user_code"])["state"], "expired")
        self.assertEqual(self.control(pending["user_code"], "approve", "alice",
                                      status=409)["state"], "expired")


class TapResult(unittest.TestResult):
    """TAP for tests/run-all: one line per test; a skip is `ok N # SKIP`,
    which run-all counts apart from the passes."""

    def __init__(self):
        super().__init__()
        self.n = 0

    def _line(self, test, ok, directive="", diag=None):
        self.n += 1
        print("%s %d - %s%s" % ("ok" if ok else "not ok", self.n, test.id(), directive),
              flush=True)
        for line in (diag or "").splitlines()[:40]:
            print("#   " + line, flush=True)

    def addSuccess(self, test):
        super().addSuccess(test)
        self._line(test, True)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._line(test, False, diag=self._exc_info_to_string(err, test))

    def addError(self, test, err):
        super().addError(test, err)
        self._line(test, False, diag=self._exc_info_to_string(err, test))

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._line(test, True, " # SKIP %s" % reason)


if __name__ == "__main__":
    if sys.argv[1:] == ["--tap"]:
        result = TapResult()
        unittest.defaultTestLoader.loadTestsFromModule(sys.modules[__name__]).run(result)
        print("1..%d" % result.n)
        sys.exit(0 if result.wasSuccessful() else 1)
    unittest.main()
