/* One-time tokens for activation and password-reset links.
 *
 * The token travels only in the emailed link; the directory keeps the
 * SHA-256 of its base64url text, so a leaked directory dump cannot be
 * turned into working links.  Hashing the text (not the decoded bytes)
 * keeps the stored value reproducible with any sha256sum. */
#include <string.h>
#include <openssl/evp.h>
#include "secure.h"
#include "token.h"

static void hex_lower(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 0x0f];
    }
    out[2 * n] = '\0';
}

/* SHA-256 of the 43 token characters as lowercase hex. */
static int token_digest(const char *token, char hash_hex[ICSOE_TOKEN_HASH_HEX + 1])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    if (EVP_Digest(token, ICSOE_TOKEN_LEN, md, &mdlen, EVP_sha256(), NULL) != 1 ||
        mdlen * 2 != ICSOE_TOKEN_HASH_HEX)
        return -1;
    hex_lower(md, mdlen, hash_hex);
    return 0;
}

int icsoe_token_new(char token[ICSOE_TOKEN_LEN + 1],
                    char hash_hex[ICSOE_TOKEN_HASH_HEX + 1])
{
    unsigned char raw[ICSOE_TOKEN_BYTES];
    int rc = -1;

    token[0] = '\0';
    hash_hex[0] = '\0';
    if (icsoe_random(raw, sizeof(raw)) != 0)
        goto cleanup;
    icsoe_b64url_encode(raw, sizeof(raw), token);
    if (token_digest(token, hash_hex) != 0) {
        icsoe_wipe(token, ICSOE_TOKEN_LEN + 1);
        token[0] = '\0';
        goto cleanup;
    }
    rc = 0;
cleanup:
    icsoe_wipe(raw, sizeof(raw));
    return rc;
}

int icsoe_token_hash(const char *token, char hash_hex[ICSOE_TOKEN_HASH_HEX + 1])
{
    unsigned char raw[ICSOE_TOKEN_BYTES + 1];
    int rc = -1;

    hash_hex[0] = '\0';
    if (token == NULL || strnlen(token, ICSOE_TOKEN_LEN + 1) != ICSOE_TOKEN_LEN)
        return -1;
    /* The strict decoder rejects foreign characters and a last character
     * with stray low bits, so only the one canonical spelling of each
     * 32-byte token is accepted. */
    if (icsoe_b64url_decode(token, ICSOE_TOKEN_LEN, raw, sizeof(raw)) != ICSOE_TOKEN_BYTES)
        goto cleanup;
    if (token_digest(token, hash_hex) != 0) {
        hash_hex[0] = '\0';
        goto cleanup;
    }
    rc = 0;
cleanup:
    icsoe_wipe(raw, sizeof(raw));
    return rc;
}

int icsoe_token_hash_equal(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return 0;
    if (strnlen(a, ICSOE_TOKEN_HASH_HEX + 1) != ICSOE_TOKEN_HASH_HEX ||
        strnlen(b, ICSOE_TOKEN_HASH_HEX + 1) != ICSOE_TOKEN_HASH_HEX)
        return 0;
    return icsoe_memeq_ct(a, b, ICSOE_TOKEN_HASH_HEX);
}

const char *icsoe_token_purpose_name(icsoe_token_purpose p)
{
    switch (p) {
    case ICSOE_TOKEN_ACTIVATION:
        return "activation";
    case ICSOE_TOKEN_RESET:
        return "reset";
    }
    return "unknown";
}
