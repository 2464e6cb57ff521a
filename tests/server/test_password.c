/* Argon2id password strings and session tokens. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "password.h"

static void test_password(void **st)
{
    assert_true(sodium_init() >= 0);
    char h1[crypto_pwhash_STRBYTES], h2[crypto_pwhash_STRBYTES];
    assert_int_equal(password_hash("correct horse", 13, h1), 0);
    assert_int_equal(password_hash("correct horse", 13, h2), 0);
    assert_true(strncmp(h1, "$argon2id$", 10) == 0);
    assert_string_not_equal(h1, h2); /* salted */
    assert_true(password_verify(h1, "correct horse", 13));
    assert_false(password_verify(h1, "correct horsE", 13));
    assert_false(password_verify(h1, "correct hors", 12));
    assert_false(password_verify("not a hash", "x", 1));
}

static void test_tokens(void **st)
{
    assert_true(sodium_init() >= 0);
    char t1[TOKEN_CHARS + 1], t2[TOKEN_CHARS + 1];
    uint8_t h1[32], h2[32], again[32];
    token_new(t1, h1);
    token_new(t2, h2);
    assert_int_equal(strlen(t1), 43);
    assert_string_not_equal(t1, t2);
    for (size_t i = 0; i < 43; i++) {
        char c = t1[i];
        assert_true((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_');
    }
    /* the stored hash is a function of the token alone */
    token_hash(t1, 43, again);
    assert_memory_equal(h1, again, 32);
    assert_memory_not_equal(h1, h2, 32);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_password),
                                       cmocka_unit_test(test_tokens)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
