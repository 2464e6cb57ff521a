/* Passwords and session tokens. Passwords are kept only as Argon2id strings; tokens are 32
 * random bytes in base64url, kept only as their BLAKE2b hash. These calls are slow (hashing)
 * or pure: call the hashing ones off the loop.
 * Layer: base (calls nothing of the server's above it). */
#ifndef MUTUAL_PASSWORD_H
#define MUTUAL_PASSWORD_H

#include <sodium.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOKEN_CHARS 43 /* 32 bytes in unpadded base64url */
#define TOKEN_HASH_BYTES 32

int password_hash(const char *pw, size_t n, char out[crypto_pwhash_STRBYTES]);
bool password_verify(const char *hash, const char *pw, size_t n);

void token_new(char out[TOKEN_CHARS + 1], uint8_t hash[TOKEN_HASH_BYTES]);
void token_hash(const char *token, size_t n, uint8_t hash[TOKEN_HASH_BYTES]);

#endif
