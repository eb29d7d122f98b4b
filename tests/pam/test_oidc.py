#!/usr/bin/env python3
"""PAM tests of token verification (issue: who the token is for): the real
libpam and the built module under pam_wrapper, against the test IdP's
OpenID Connect side (tests/idp/testidp.py, /o/<profile>/...): discovery,
the JWKS, id_tokens and JWT access tokens signed every way (and every
wrong way), introspection, userinfo, and the claim rules.  One case per
attack, each with the outcome, the PAM code and what the IdP was asked.
Output: TAP.

Environment: ROPC_BUILDDIR (default ./build), ROPC_CASES=a,b to run some.
"""

import os
import stat
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from ropctest import PAM, Pam, Tap, TestIdP, Workdir, make_pki  # noqa: E402

PW = "correct horse"
CLIENT = "pam-box"
SECRET = "hs-client-secret-0123456789abcdef0123"


class Suite:
    def __init__(self, t, w):
        self.t = t
        self.w = w
        self.pki = make_pki(w.path)
        self.ca = os.path.join(self.pki, "ca.pem")
        self.idp = TestIdP(w.path, self.pki)
        self.pam = Pam(w.path)
        self.secret_conf = self.pam.config("client_secret = %s\n" % SECRET, mode=0o600)
        self.ncache = 0

    # ---- helpers ----
    def issuer(self, profile):
        return "https://127.0.0.1:%d/o/%s" % (self.idp.port, profile)

    def cache(self):
        """A fresh cache directory of this test's own (not yet created)."""
        self.ncache += 1
        return os.path.join(self.w.path, "cache-%d" % self.ncache)

    def service(self, profile, extra="", cache=None, account=False):
        args = ("issuer=%s client_id=%s config=%s ca_file=%s require_local_user=no "
                "timeout=5 cache_dir=%s %s" % (self.issuer(profile), CLIENT, self.secret_conf,
                                                self.ca, cache or self.cache(), extra))
        return self.pam.simple(args.strip(), account=account)

    def reqs(self, profile, endpoint=None):
        out = self.idp.requests(profile)
        if endpoint:
            out = [r for r in out if r.get("endpoint") == endpoint]
        return out

    def login(self, svc, user="alice", answers=(PW,), args=()):
        r = self.pam.run(svc, user, answers, args)
        logs = r.log_text()
        for a in answers:
            self.t.ok(a not in logs, "no password in any log line")
        for k, v in r.env.items():
            if k.endswith("TOKEN") and v:
                self.t.ok(v not in logs, "no token in any log line")
        return r

    def expect(self, r, code, outcome, name, message=None):
        t = self.t
        t.eq(r.auth, PAM[code], "%s: %s" % (name, code))
        t.eq(r.field("outcome"), outcome, "%s: log says outcome=%s" % (name, outcome))
        if message is not None:
            t.eq(r.shown("error"), [message] if message else [],
                 "%s: person is shown %r" % (name, message or "nothing"))

    # ---- cases ----
    def case_algorithms(self):
        """Every allowed algorithm verifies with the right key."""
        t = self.t
        for alg in ("rs256", "rs384", "rs512", "ps256", "ps384", "ps512", "es256", "es384",
                    "es512", "hs256", "hs384", "hs512"):
            r = self.login(self.service(alg))
            self.expect(r, "PAM_SUCCESS", "success", "id_token %s" % alg.upper(), message="")
            t.ok(r.env.get("OAUTH2_SUB", "").startswith("sub-"),
                 "id_token %s: OAUTH2_SUB is the verified subject" % alg.upper(), r.env)
        r = self.login(self.service("es256", "allowed_algs=RS256"))
        self.expect(r, "PAM_AUTH_ERR", "token_invalid", "ES256 outside allowed_algs=RS256")
        t.ok("allowed_algs" in (r.field("detail") or ""), "allowed_algs: the detail says so",
             r.auth_line())

    ATTACKS = [
        # profile, outcome, PAM code, a word the detail must hold
        ("alg_none", "token_invalid", "PAM_AUTH_ERR", "none"),
        ("hs_with_rsa_pub", "token_invalid", "PAM_AUTH_ERR", "id_token"),
        ("rogue_key", "token_invalid", "PAM_AUTH_ERR", "signature"),
        ("tampered", "token_invalid", "PAM_AUTH_ERR", "signature"),
        ("expired", "token_invalid", "PAM_AUTH_ERR", "exp"),
        ("nbf_future", "token_invalid", "PAM_AUTH_ERR", "nbf"),
        ("iat_future", "token_invalid", "PAM_AUTH_ERR", "iat"),
        ("wrong_iss", "token_invalid", "PAM_AUTH_ERR", "iss"),
        ("aud_other", "token_invalid", "PAM_AUTH_ERR", "aud"),
        ("multi_aud", "token_invalid", "PAM_AUTH_ERR", "azp"),
        ("multi_aud_wrong_azp", "token_invalid", "PAM_AUTH_ERR", "azp"),
        ("weak_rsa", "token_invalid", "PAM_AUTH_ERR", "id_token"),
        ("no_id_token", "token_invalid", "PAM_AUTH_ERR", "openid"),
        ("jwks_extra_keys+no_kid", "success", "PAM_SUCCESS", ""),
        ("multi_aud_azp", "success", "PAM_SUCCESS", ""),
    ]

    def case_attacks(self):
        """One login per attack on the id_token: each is refused."""
        t = self.t
        for profile, outcome, code, word in self.ATTACKS:
            r = self.login(self.service(profile))
            self.expect(r, code, outcome, "id_token attack %s" % profile, message="")
            if word:
                t.ok(word in (r.field("detail") or ""),
                     "%s: the detail names the check (%r)" % (profile, word), r.auth_line())
            t.ok(r.env.get("OAUTH2_ACCESS_TOKEN") is None or code == "PAM_SUCCESS",
                 "%s: no token exported on a refusal" % profile, r.env)
            if outcome == "token_invalid":
                t.ok(any(p == 3 and "outcome=token_invalid" in x for p, x in r.logs),
                     "%s: logged at LOG_ERR" % profile, r.log_text())

    def age_cache(self, cache, kind, seconds):
        """Make the cached entries of kind look seconds older (the module
        reads their age from the file's time)."""
        d = os.path.join(cache, kind)
        for n in os.listdir(d):
            p = os.path.join(d, n)
            st = os.stat(p)
            os.utime(p, (st.st_atime - seconds, st.st_mtime - seconds))

    def case_kid_refetch(self):
        """A kid missing from the JWKS refetches it once, and not again
        within a minute (the cache entry's time tells, across processes)."""
        t = self.t
        cache = self.cache()
        svc = self.service("kid_missing", cache=cache)
        before = len(self.reqs("kid_missing", "jwks"))
        r = self.login(svc)
        self.expect(r, "PAM_AUTH_ERR", "token_invalid", "kid missing from the JWKS")
        t.eq(len(self.reqs("kid_missing", "jwks")) - before, 1,
             "kid missing, JWKS just fetched: no second fetch in the same login")
        self.age_cache(cache, "jwks", 120)
        before = len(self.reqs("kid_missing", "jwks"))
        r = self.login(svc)
        self.expect(r, "PAM_AUTH_ERR", "token_invalid", "kid missing, cached JWKS 2 minutes old")
        t.eq(len(self.reqs("kid_missing", "jwks")) - before, 1,
             "kid missing: the cached JWKS is refetched once")
        before = len(self.reqs("kid_missing", "jwks"))
        r = self.login(svc)
        self.expect(r, "PAM_AUTH_ERR", "token_invalid", "kid missing, a third login")
        t.eq(len(self.reqs("kid_missing", "jwks")) - before, 0,
             "kid missing again within a minute of the refetch: no refetch")

    def case_rotation(self):
        """The IdP switches its signing key: the next login refetches the
        JWKS once and succeeds."""
        t = self.t
        import urllib.request
        import ssl
        cache = self.cache()
        svc = self.service("rs512+groups_array", cache=cache)
        r = self.login(svc)
        self.expect(r, "PAM_SUCCESS", "success", "before rotation")
        ctx = ssl.create_default_context(cafile=self.ca)
        req = urllib.request.Request("https://127.0.0.1:%d/control/rotate" % self.idp.port,
                                     data=b"profile=rs512%2Bgroups_array", method="POST")
        urllib.request.urlopen(req, context=ctx, timeout=10).read()
        self.age_cache(cache, "jwks", 120)
        before = len(self.reqs("rs512+groups_array", "jwks"))
        r = self.login(svc)
        self.expect(r, "PAM_SUCCESS", "success", "after rotation")
        t.eq(len(self.reqs("rs512+groups_array", "jwks")) - before, 1,
             "after rotation: the JWKS is refetched once")

    def case_requests_per_login(self):
        """With issuer and token_check = id_token the first login asks
        discovery, JWKS and token; the next ones only the token endpoint.
        Introspection: token and introspection."""
        t = self.t
        cache = self.cache()
        svc = self.service("ps256+groups_array", cache=cache)
        counts = []
        for i in range(3):
            before = {e: len(self.reqs("ps256+groups_array", e))
                      for e in ("discovery", "jwks", "token", "introspect", "userinfo")}
            r = self.login(svc)
            t.eq(r.auth, 0, "requests per login: login %d succeeds" % (i + 1))
            counts.append({e: len(self.reqs("ps256+groups_array", e)) - n for e, n in before.items()})
        t.eq(counts[0], {"discovery": 1, "jwks": 1, "token": 1, "introspect": 0, "userinfo": 0},
             "id_token, first login: discovery, JWKS, token")
        t.eq(counts[1], {"discovery": 0, "jwks": 0, "token": 1, "introspect": 0, "userinfo": 0},
             "id_token, second login: the token request only")
        t.diag("requests per login (id_token): %s" % counts)
        cache = self.cache()
        svc = self.service("ps384+groups_array", "token_check=introspection", cache=cache)
        self.login(svc)
        before = {e: len(self.reqs("ps384+groups_array", e)) for e in ("discovery", "token", "introspect")}
        r = self.login(svc)
        got = {e: len(self.reqs("ps384+groups_array", e)) - n for e, n in before.items()}
        t.eq((r.auth, got), (0, {"discovery": 0, "token": 1, "introspect": 1}),
             "introspection, second login: two requests (token, introspection)")
        t.diag("requests per login (introspection, cached discovery): %s" % got)
        cache = self.cache()
        svc = self.service("ps512+groups_array", "userinfo=yes", cache=cache)
        self.login(svc)
        before = {e: len(self.reqs("ps512+groups_array", e)) for e in ("token", "userinfo", "jwks")}
        r = self.login(svc)
        got = {e: len(self.reqs("ps512+groups_array", e)) - n for e, n in before.items()}
        t.eq((r.auth, got), (0, {"token": 1, "userinfo": 1, "jwks": 0}),
             "id_token + userinfo, second login: token and userinfo")
        t.diag("requests per login (id_token + userinfo): %s" % got)
        for mode, profile, extra, want in (
                ("jwt", "rs384+jwt_at", "token_check=jwt audience=api://default",
                 {"discovery": 0, "jwks": 0, "token": 1}),
                ("none", "rs384+groups_array", "token_check=none",
                 {"discovery": 0, "jwks": 0, "token": 1})):
            cache = self.cache()
            svc = self.service(profile, extra, cache=cache)
            first = {e: len(self.reqs(profile, e)) for e in want}
            self.login(svc)
            before = {e: len(self.reqs(profile, e)) for e in want}
            r = self.login(svc)
            got1 = {e: before[e] - first[e] for e in want}
            got = {e: len(self.reqs(profile, e)) - n for e, n in before.items()}
            t.eq((r.auth, got), (0, want), "%s, second login: %s" % (mode, want))
            t.diag("requests per login (%s): first %s, then %s" % (mode, got1, got))

    def case_identity(self):
        """username_claim binds the token to the name sent."""
        t = self.t
        opt = "username_claim=preferred_username"
        r = self.login(self.service("rs256", opt))
        self.expect(r, "PAM_SUCCESS", "success", "username_claim matches")
        for profile, extra in (("user_missing", ""), ("user_upper", ""), ("user_other", "")):
            r = self.login(self.service(profile, opt + " " + extra))
            self.expect(r, "PAM_PERM_DENIED", "identity_mismatch", "username_claim, %s" % profile,
                        message="the identity provider vouched for a different account")
        r = self.login(self.service("user_upper", opt + " username_claim_case=insensitive"))
        self.expect(r, "PAM_SUCCESS", "success", "username_claim_case=insensitive, other case")
        r = self.login(self.service("rs256", "username_claim=preferred_username "
                                    "username_format=%u@corp.example"))
        self.expect(r, "PAM_SUCCESS", "success",
                    "username_claim compares the name sent (after username_format)")

    def case_groups(self):
        """allowed_groups: alice (ssh-users) in, bob (staff only) out."""
        t = self.t
        for profile in ("groups_array", "groups_string"):
            svc = self.service(profile, "allowed_groups=ssh-users,admins")
            r = self.login(svc, "alice")
            self.expect(r, "PAM_SUCCESS", "success", "%s: alice is in ssh-users" % profile)
            r = self.login(svc, "bob")
            self.expect(r, "PAM_PERM_DENIED", "not_authorized", "%s: bob is not" % profile,
                        message="not allowed to use this service")
        r = self.login(self.service("groups_missing", "allowed_groups=ssh-users"))
        self.expect(r, "PAM_PERM_DENIED", "not_authorized", "groups claim missing")
        r = self.login(self.service("rs256", "groups_claim=realm_access.roles "
                                    "allowed_groups=ssh-users"))
        self.expect(r, "PAM_SUCCESS", "success", "groups_claim=realm_access.roles (dotted)")
        r = self.login(self.service("rs256", "require_claim=email=alice@example.com"))
        self.expect(r, "PAM_SUCCESS", "success", "require_claim holds")
        r = self.login(self.service("rs256", "require_claim=email=mallory@example.com"))
        self.expect(r, "PAM_PERM_DENIED", "not_authorized", "require_claim does not hold")
        r = self.login(self.service("rs256", "export_claims=email,realm_access.roles"))
        t.eq((r.env.get("OAUTH2_CLAIM_EMAIL"), r.env.get("OAUTH2_CLAIM_REALM_ACCESS_ROLES")),
             ("alice@example.com", '["staff","ssh-users"]'), "export_claims into the environment")

    def case_scopes(self):
        """require_scope against the JWT access token's own scope claim."""
        conf = self.pam.config("client_secret = %s\nscope = openid custom:scope\n" % SECRET,
                               mode=0o600)
        base = ("issuer=%s client_id=%s config=%s ca_file=%s require_local_user=no "
                "cache_dir=%s " % (self.issuer("rs256+jwt_at"), CLIENT, conf, self.ca,
                                   self.cache()))
        r = self.login(self.pam.simple(base + "token_check=jwt audience=api://default "
                                       "require_scope=custom:scope"))
        self.expect(r, "PAM_SUCCESS", "success", "jwt access token with the scope required")
        base = base.replace("rs256+jwt_at", "rs256+jwt_at+scope_partial")
        r = self.login(self.pam.simple(base + "token_check=jwt audience=api://default "
                                       "require_scope=custom:scope"))
        self.expect(r, "PAM_PERM_DENIED", "not_authorized", "jwt access token without it")
        r = self.login(self.pam.simple(base.replace("+scope_partial", "") +
                                       "token_check=jwt audience=someone-else"))
        self.expect(r, "PAM_AUTH_ERR", "token_invalid", "jwt access token for another audience")

    def case_introspection(self):
        t = self.t
        r = self.login(self.service("rs256", "token_check=introspection"))
        self.expect(r, "PAM_SUCCESS", "success", "introspection: active")
        for profile in ("intro_inactive", "intro_active_string", "intro_other_client",
                        "intro_expired"):
            r = self.login(self.service(profile, "token_check=introspection"))
            self.expect(r, "PAM_AUTH_ERR", "token_invalid", "introspection %s" % profile)
        r = self.login(self.service("intro_exp_nan", "token_check=introspection"))
        self.expect(r, "PAM_AUTH_ERR", "token_invalid", "introspection exp NaN")
        r = self.login(self.service("intro_clientId", "token_check=introspection"))
        self.expect(r, "PAM_SUCCESS", "success", "introspection with onePortal's clientId")
        r = self.login(self.service("rs256", "token_check=introspection "
                                    "username_claim=username"))
        self.expect(r, "PAM_SUCCESS", "success", "introspection: username_claim=username")
        reqs = self.reqs("rs256", "introspect")
        t.ok(reqs and reqs[-1]["form"].get("token_type_hint") == ["access_token"],
             "introspection: token_type_hint=access_token sent", reqs[-1:] and reqs[-1]["form"])

    def case_userinfo(self):
        r = self.login(self.service("rs256", "userinfo=yes"))
        self.expect(r, "PAM_SUCCESS", "success", "userinfo: same sub")
        r = self.login(self.service("userinfo_other_sub", "userinfo=yes"))
        self.expect(r, "PAM_AUTH_ERR", "token_invalid", "userinfo names another sub")
        r = self.login(self.service("userinfo_no_sub", "userinfo=yes"))
        self.expect(r, "PAM_AUTH_ERR", "token_invalid", "userinfo without sub")

    def case_endpoints(self):
        """Hostile or failing discovery, JWKS and introspection."""
        r = self.login(self.service("disc_other_issuer"))
        self.expect(r, "PAM_SERVICE_ERR", "misconfigured", "discovery names another issuer")
        for profile, extra in (("disc_huge", ""), ("disc_redirect", ""), ("disc_500", ""),
                               ("disc_garbage", ""), ("jwks_huge", ""), ("jwks_redirect", ""),
                               ("jwks_500", ""), ("jwks_garbage", ""),
                               ("intro_huge", "token_check=introspection"),
                               ("intro_500", "token_check=introspection"),
                               ("intro_redirect", "token_check=introspection")):
            r = self.login(self.service(profile, extra))
            self.expect(r, "PAM_AUTHINFO_UNAVAIL", "unavailable", profile)

    def case_endpoint_answers(self):
        """What the answers of the verification endpoints mean."""
        t = self.t
        r = self.login(self.service("intro_401", "token_check=introspection"))
        self.expect(r, "PAM_SERVICE_ERR", "misconfigured",
                    "introspection refuses our credentials (401): the admin's error")
        r = self.login(self.service("userinfo_401", "userinfo=yes"))
        self.expect(r, "PAM_AUTH_ERR", "token_invalid",
                    "userinfo refuses the access token just issued (401)")
        r = self.login(self.service("disc_bad_device"))
        t.ok(r.auth == 0 and any(p == 4 and "device_authorization_endpoint" in x
                                 for p, x in r.logs),
             "discovery: a bad endpoint the checks do not need is logged, not fatal",
             r.log_text())
        cache = self.cache()
        r = self.login(self.service("disc_other_issuer", cache=cache))
        self.expect(r, "PAM_SERVICE_ERR", "misconfigured", "discovery naming another issuer")
        d = os.path.join(cache, "discovery")
        t.eq(os.listdir(d) if os.path.isdir(d) else [], [],
             "a discovery document naming another issuer is not cached")

    def case_review(self):
        """What an independent review found, each closed."""
        import hashlib
        import ssl
        import urllib.request
        t = self.t
        # An account line with a rule its auth line lacked does not vouch.
        cache = self.cache()
        base = ("issuer=%s client_id=%s config=%s ca_file=%s require_local_user=no "
                "cache_dir=%s" % (self.issuer("rs256"), CLIENT, self.secret_conf, self.ca, cache))
        svc = self.pam.service(["auth required MODULE " + base,
                                "account sufficient MODULE " + base + " allowed_groups=admins",
                                "account required pam_deny.so"])
        r = self.login(svc, args=["--acct"])
        t.ok(r.auth == 0 and r.data.get("acct") not in (None, 0),
             "an account line with allowed_groups the auth line lacked does not vouch", r.data)
        svc = self.pam.service(["auth required MODULE " + base + " allowed_groups=ssh-users",
                                "account sufficient MODULE " + base + " allowed_groups=ssh-users",
                                "account required pam_deny.so"])
        r = self.login(svc, args=["--acct"])
        t.eq((r.auth, r.data.get("acct")), (0, 0), "the same rules on both lines: it vouches")
        # A stale copy does not serve after a refusal (404), only in an
        # outage; and logins that miss a kid do not make it young again.
        ctx = ssl.create_default_context(cafile=self.ca)
        doc = urllib.request.urlopen(self.issuer("rs256+tag_review") + "/jwks", context=ctx,
                                     timeout=10).read()

        def plant(cache, url, age):
            os.makedirs(os.path.join(cache, "jwks"), mode=0o700, exist_ok=True)
            os.chmod(cache, 0o700)
            e = os.path.join(cache, "jwks", hashlib.sha256(url.encode()).hexdigest() + ".json")
            with open(e, "wb") as f:
                f.write(doc)
            os.chmod(e, 0o600)
            now = time.time()
            os.utime(e, (now - age, now - age))
        cache = self.cache()
        gone = self.issuer("rs256+tag_review") + "/no-such-endpoint"
        plant(cache, gone, 3600 + 600)
        r = self.login(self.service("rs256+tag_review", "jwks_uri=%s" % gone, cache=cache))
        self.expect(r, "PAM_AUTHINFO_UNAVAIL", "unavailable",
                    "key set answering 404, stale copy: not used (no outage)")
        cache = self.cache()
        dead = "https://127.0.0.1:1/jwks-review"
        plant(cache, dead, 3600 + 24 * 3600 - 120)
        r = self.login(self.service("kid_missing+tag_review", "jwks_uri=%s" % dead, cache=cache))
        self.expect(r, "PAM_AUTH_ERR", "token_invalid", "kid missing, stale key set")
        r = self.login(self.service("rs256+tag_review", "jwks_uri=%s" % dead, cache=cache))
        t.ok(r.auth == 0 and any(p == 4 and "using the cached copy" in x for p, x in r.logs),
             "after a kid-missing login the stale copy is still stale (logged)", r.log_text())
        self.age_cache(cache, "jwks", 300)
        r = self.login(self.service("rs256+tag_review", "jwks_uri=%s" % dead, cache=cache))
        self.expect(r, "PAM_AUTHINFO_UNAVAIL", "unavailable",
                    "a day past cache_ttl the stale copy ends, kid misses or not")

    def case_rotation_no_kid(self):
        """Key rotation without a kid: no key of the cached set verifies,
        the set is fetched again once, the login succeeds."""
        import ssl
        import urllib.request
        t = self.t
        prof = "rs256+no_kid+tag_rotnokid"
        cache = self.cache()
        svc = self.service(prof, cache=cache)
        r = self.login(svc)
        self.expect(r, "PAM_SUCCESS", "success", "no kid, before rotation")
        ctx = ssl.create_default_context(cafile=self.ca)
        req = urllib.request.Request("https://127.0.0.1:%d/control/rotate" % self.idp.port,
                                     data=("profile=" + prof.replace("+", "%2B")).encode(),
                                     method="POST")
        urllib.request.urlopen(req, context=ctx, timeout=10).read()
        self.age_cache(cache, "jwks", 120)
        before = len(self.reqs(prof, "jwks"))
        r = self.login(svc)
        self.expect(r, "PAM_SUCCESS", "success", "no kid, after rotation")
        t.eq(len(self.reqs(prof, "jwks")) - before, 1, "no kid, after rotation: one refetch")

    def case_cache(self):
        """The cache directory: created root 0700, entries 0600; a corrupt
        entry is ignored; a directory of another owner is not used, and the
        login works all the same; a stale copy serves when the IdP fails."""
        t = self.t
        cache = self.cache()
        svc = self.service("rs256", cache=cache)
        r = self.login(svc)
        t.eq(r.auth, 0, "cache: first login")
        st = os.lstat(cache)
        t.eq((stat.S_IMODE(st.st_mode), st.st_uid), (0o700, 0), "cache_dir created 0700, root")
        entries = []
        for kind in ("discovery", "jwks"):
            d = os.path.join(cache, kind)
            t.eq(stat.S_IMODE(os.lstat(d).st_mode), 0o700, "cache: %s/ is 0700" % kind)
            names = os.listdir(d)
            t.ok(len(names) == 1 and names[0].endswith(".json") and len(names[0]) == 69,
                 "cache: one entry in %s/, named by a hash" % kind, names)
            entries += [os.path.join(d, n) for n in names]
        t.ok(all(stat.S_IMODE(os.lstat(e).st_mode) == 0o600 for e in entries),
             "cache: entries are 0600")
        # A corrupt JWKS entry: ignored, refetched, login works.
        jwks = [e for e in entries if "/jwks/" in e][0]
        with open(jwks, "w") as f:
            f.write("{not json")
        before = len(self.reqs("rs256", "jwks"))
        r = self.login(svc)
        t.eq((r.auth, len(self.reqs("rs256", "jwks")) - before), (0, 1),
             "cache: a corrupt JWKS entry is refetched, the login works")
        # An entry of the wrong mode is ignored (logged).
        os.chmod(jwks, 0o644)
        before = len(self.reqs("rs256", "jwks"))
        r = self.login(svc)
        t.ok(r.auth == 0 and len(self.reqs("rs256", "jwks")) - before == 1 and
             any(p == 4 and "cache:" in x for p, x in r.logs),
             "cache: an entry of mode 0644 is ignored (LOG_WARNING) and refetched", r.log_text())
        # A cache directory owned by another user: not used, never fatal.
        other = self.cache()
        os.makedirs(other, mode=0o700)
        os.chown(other, 1, 1)
        svc2 = self.service("rs256", cache=other)
        r = self.login(svc2)
        t.ok(r.auth == 0 and any(p == 4 and "cache:" in x and other in x for p, x in r.logs),
             "cache: a directory owned by uid 1 is not used (logged), the login works",
             r.log_text())
        t.eq(os.listdir(other), [], "cache: nothing written into it")

    def case_stale(self):
        """When the JWKS endpoint fails, a cached copy older than cache_ttl
        serves (logged) for a day more; after that the login is
        unavailable.  The copy is the IdP's real key set, put in the cache
        under a jwks_uri where nothing listens."""
        import hashlib
        import ssl
        import urllib.request
        t = self.t
        cache = self.cache()
        dead = "https://127.0.0.1:1/jwks"
        ctx = ssl.create_default_context(cafile=self.ca)
        doc = urllib.request.urlopen(self.issuer("rs256+tag_stale") + "/jwks", context=ctx,
                                     timeout=10).read()
        os.makedirs(os.path.join(cache, "jwks"), mode=0o700)
        os.chmod(cache, 0o700)
        entry = os.path.join(cache, "jwks", hashlib.sha256(dead.encode()).hexdigest() + ".json")
        with open(entry, "wb") as f:
            f.write(doc)
        os.chmod(entry, 0o600)
        svc = self.service("rs256+tag_stale", "jwks_uri=%s cache_ttl=3600" % dead, cache=cache)
        r = self.login(svc)
        self.expect(r, "PAM_SUCCESS", "success", "a fresh cached JWKS serves without a request")
        self.age_cache(cache, "jwks", 3600 + 600)
        r = self.login(svc)
        self.expect(r, "PAM_SUCCESS", "success", "JWKS endpoint down, cache 10 min past its ttl")
        t.ok(any(p == 4 and "using the cached copy" in x for p, x in r.logs),
             "the stale copy is logged at LOG_WARNING", r.log_text())
        self.age_cache(cache, "jwks", 24 * 3600)
        r = self.login(svc)
        self.expect(r, "PAM_AUTHINFO_UNAVAIL", "unavailable",
                    "JWKS endpoint down, cache a day past its ttl")

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
    t = Tap("oidc-sanitize" if os.environ.get("ROPC_SANITIZE") == "1" else "oidc")
    w = Workdir("ropc-oidc-")
    s = None
    try:
        s = Suite(t, w)
        s.run(["algorithms", "attacks", "kid_refetch", "rotation", "requests_per_login",
               "identity", "groups", "scopes", "introspection", "userinfo", "endpoints",
               "cache", "stale", "endpoint_answers", "review", "rotation_no_kid"])
        if os.environ.get("ROPC_SANITIZE") == "1":
            t.ok(not s.pam.sanitizer_reports and s.pam.runs > 20,
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
