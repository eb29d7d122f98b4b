/*
 * test-user.c: which user names may be sent to the IdP (DESIGN §1 step 2),
 * the UTF-8 validator behind it, and username_format mapping.
 */
#include <stdlib.h>
#include <string.h>

#include "user.h"
#include "tap.h"

/* The name must be refused, and the reason must name the rule. */
static void
refused(const char *name, const char *reason_word, const char *what)
{
	const char *why = ropc_user_check(name);

	CHECK_CONTAINS(why, reason_word, "refused: %s", what);
}

static void
accepted(const char *name, const char *what)
{
	CHECK_STR(ropc_user_check(name), NULL, "accepted: %s", what);
}

static void
test_user_check(void)
{
	char name[600];
	int i;

	refused(NULL, "empty", "NULL");
	refused("", "empty", "empty name");

	memset(name, 'a', sizeof(name));
	name[256] = '\0';
	accepted(name, "256 bytes");
	name[256] = 'a';
	name[257] = '\0';
	refused(name, "longer", "257 bytes");
	name[599] = '\0';
	refused(name, "longer", "599 bytes");

	/* 128 two-byte characters are 256 bytes: the limit is in bytes. */
	name[0] = '\0';
	for (i = 0; i < 128; i++)
		strcat(name, "\xc3\xa9");
	accepted(name, "128 x U+00E9 = 256 bytes");
	strcat(name, "a");
	refused(name, "longer", "128 x U+00E9 + 'a' = 257 bytes");

	refused("al\tice", "control", "TAB");
	refused("alice\n", "control", "LF");
	refused("alice\r", "control", "CR");
	refused("\x01" "alice", "control", "0x01");
	refused("al\x1b[31mice", "control", "ESC");
	refused("alice\x1f", "control", "0x1f");
	refused("alice\x7f", "control", "DEL");
	refused("alice\b", "control", "backspace");

	refused("\xff", "UTF-8", "byte 0xff");
	refused("\xfe", "UTF-8", "byte 0xfe");
	refused("ali\x80" "ce", "UTF-8", "lone continuation byte");
	refused("\xc3", "UTF-8", "truncated two-byte sequence at the end");
	refused("\xc3" "a", "UTF-8", "two-byte lead followed by ASCII");
	refused("\xe2\x82", "UTF-8", "truncated three-byte sequence");
	refused("\xf0\x9f\x98", "UTF-8", "truncated four-byte sequence");
	refused("\xc0\xaf", "UTF-8", "overlong '/' (C0 AF)");
	refused("\xc1\xbf", "UTF-8", "overlong U+007F (C1 BF)");
	refused("\xe0\x80\xaf", "UTF-8", "overlong three-byte '/'");
	refused("\xe0\x9f\xbf", "UTF-8", "overlong three-byte U+07FF");
	refused("\xf0\x80\x80\xaf", "UTF-8", "overlong four-byte '/'");
	refused("\xf0\x8f\xbf\xbf", "UTF-8", "overlong four-byte U+FFFF");
	refused("\xed\xa0\x80", "UTF-8", "surrogate U+D800");
	refused("\xed\xbf\xbf", "UTF-8", "surrogate U+DFFF");
	refused("\xed\xa0\xbd\xed\xb8\x80", "UTF-8", "CESU-8 surrogate pair");
	refused("\xf4\x90\x80\x80", "UTF-8", "U+110000, above Unicode");
	refused("\xf5\x80\x80\x80", "UTF-8", "lead byte F5");
	refused("\xf8\x88\x80\x80\x80", "UTF-8", "five-byte sequence");
	refused("\xfc\x84\x80\x80\x80\x80", "UTF-8", "six-byte sequence");
	refused("a\xc0\x80" "b", "UTF-8", "modified-UTF-8 NUL (C0 80)");

	accepted("alice", "ASCII");
	accepted("alice.smith@example.com", "e-mail address");
	accepted("DOMAIN\\alice", "backslash");
	accepted("a b", "space");
	accepted("~!#$%^&*()_+={}[]|:;\"'<>,.?/", "printable punctuation");
	accepted("j\xc3\xb6rg", "two-byte UTF-8");
	accepted("\xe7\x94\xa8\xe6\x88\xb7", "CJK");
	accepted("\xf0\x9f\x98\x80user", "emoji");
	accepted("\xc2\xa0", "U+00A0, no-break space");
	accepted("\xdf\xbf", "U+07FF");
	accepted("\xe0\xa0\x80", "U+0800, smallest three-byte");
	accepted("\xed\x9f\xbf", "U+D7FF, just below the surrogates");
	accepted("\xee\x80\x80", "U+E000, just above the surrogates");
	accepted("\xef\xbf\xbf", "U+FFFF");
	accepted("\xf0\x90\x80\x80", "U+10000, smallest four-byte");
	accepted("\xf4\x8f\xbf\xbf", "U+10FFFF, largest code point");
	CHECK_STR(ropc_user_check("a\xc2\x9b" "b"), "control character in user name",
		  "a C1 control (U+009B) is a control character");
	CHECK_NULL(ropc_user_check("a\xc2\xa0" "b"), "U+00A0 is not a control character");
}

static void
test_utf8_valid(void)
{
	CHECK(ropc_utf8_valid("", 0), "empty is valid");
	CHECK(ropc_utf8_valid("a\0b", 3), "NUL counted by n is ASCII");
	CHECK(!ropc_utf8_valid("\xc3\xa9", 1), "n cuts a sequence: invalid");
	CHECK(ropc_utf8_valid("\xc3\xa9\xff", 2), "bytes after n are not read");
	CHECK(!ropc_utf8_valid("\xe2\x82\xac\x80", 4), "euro sign then stray continuation");
	CHECK(ropc_utf8_valid("\xe2\x82\xac", 3), "euro sign");
}

static void
check_map(const char *format, const char *name, const char *expected)
{
	char *got = ropc_user_map(format, name);

	CHECK_STR(got, expected, "map \"%s\" with \"%s\"", format, name);
	free(got);
}

static void
test_user_map(void)
{
	char longname[300], expected[700];

	check_map("%u", "alice", "alice");
	check_map("%u@example.com", "alice", "alice@example.com");
	check_map("EXAMPLE\\%u", "alice", "EXAMPLE\\alice");
	check_map("%%u", "alice", "%u");
	check_map("100%%-%u", "alice", "100%-alice");
	check_map("%u%%", "alice", "alice%");
	check_map("%%%u%%", "alice", "%alice%");
	check_map("%u.%u", "bob", "bob.bob");
	check_map("%u", "", "");
	/* The name is copied as it is: no second expansion of a %u in it. */
	check_map("%u@x", "%u%%", "%u%%@x");
	check_map("pre-%u", "j\xc3\xb6rg", "pre-j\xc3\xb6rg");

	memset(longname, 'n', 256);
	longname[256] = '\0';
	snprintf(expected, sizeof(expected), "%s@%s", longname, longname);
	check_map("%u@%u", longname, expected);
}

int
main(void)
{
	test_user_check();
	test_utf8_valid();
	test_user_map();
	return tap_done();
}
