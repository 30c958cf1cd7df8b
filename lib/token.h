/* One-time tokens for activation and password-reset links.
 * 256 bits from getrandom(), base64url (43 chars); only the SHA-256 hash
 * (lowercase hex) is ever stored. */
#ifndef ICSOE_TOKEN_H
#define ICSOE_TOKEN_H

#define ICSOE_TOKEN_BYTES 32
#define ICSOE_TOKEN_LEN 43       /* base64url chars, no padding */
#define ICSOE_TOKEN_HASH_HEX 64

typedef enum icsoe_token_purpose {
    ICSOE_TOKEN_ACTIVATION = 1,
    ICSOE_TOKEN_RESET = 2
} icsoe_token_purpose;

/* New random token and its hash. 0 on success, -1 if the RNG failed. */
int icsoe_token_new(char token[ICSOE_TOKEN_LEN + 1],
                    char hash_hex[ICSOE_TOKEN_HASH_HEX + 1]);

/* Hash a token received from a user.  Returns -1 (and leaves hash_hex
 * empty) unless token is exactly 43 base64url characters. */
int icsoe_token_hash(const char *token, char hash_hex[ICSOE_TOKEN_HASH_HEX + 1]);

/* Constant-time comparison of two hex hashes: 1 equal, 0 not. */
int icsoe_token_hash_equal(const char *a, const char *b);

const char *icsoe_token_purpose_name(icsoe_token_purpose p); /* "activation"/"reset" */

#endif
