/* Passwords and session tokens (see password.h).
 * Layer: base (calls nothing of the server's above it). */
#include "password.h"

#include <string.h>

int password_hash(const char *pw, size_t n, char out[crypto_pwhash_STRBYTES])
{
    return crypto_pwhash_str(out, pw, n, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                             crypto_pwhash_MEMLIMIT_INTERACTIVE);
}

bool password_verify(const char *hash, const char *pw, size_t n)
{
    return crypto_pwhash_str_verify(hash, pw, n) == 0;
}

void token_hash(const char *token, size_t n, uint8_t hash[TOKEN_HASH_BYTES])
{
    crypto_generichash(hash, TOKEN_HASH_BYTES, (const unsigned char *)token, n, NULL, 0);
}

void token_new(char out[TOKEN_CHARS + 1], uint8_t hash[TOKEN_HASH_BYTES])
{
    unsigned char raw[32];
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2base64(out, TOKEN_CHARS + 1, raw, sizeof(raw),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof(raw));
    token_hash(out, TOKEN_CHARS, hash);
}
