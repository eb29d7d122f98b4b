#!/usr/bin/env python3
"""Self-test for testidp.py (stdlib unittest only).

    python3 tests/idp/test_testidp.py [-v]

Generates a throw-away PKI with mkcerts.sh, starts testidp.py as a
subprocess and talks to it with urllib / http.client / ssl, always verifying
the server certificate against the test CA.
"""

import base64
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

    def __init__(self, *extra, cert="server", host="127.0.0.1", wait=True):
        IdP.counter += 1
        d = os.path.join(TMP, "idp%d" % IdP.counter)
        os.mkdir(d)
        self.dir = d
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
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=self.stderr)
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
