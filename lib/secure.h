/* Small security primitives: wiping, constant-time compare, kernel RNG. */
#ifndef ICSOE_SECURE_H
#define ICSOE_SECURE_H

#include <stddef.h>

/* Overwrite n bytes so the compiler cannot elide it (explicit_bzero). */
void icsoe_wipe(void *p, size_t n);

/* Wipe a NUL-terminated string and free it; NULL is fine. */
void icsoe_free_secret(char *s);

/* 1 if equal, 0 otherwise; time depends only on n. */
int icsoe_memeq_ct(const void *a, const void *b, size_t n);

/* Fill buf with n bytes from getrandom(2). 0 on success, -1 on failure. */
int icsoe_random(void *buf, size_t n);

/* base64url without padding.  out must hold icsoe_b64url_len(n)+1 bytes. */
size_t icsoe_b64url_len(size_t n);
/* For secrets (tokens, CSRF values): no table indexed by the data. */
void icsoe_b64url_encode(const unsigned char *in, size_t n, char *out);
/* The same output, faster, with a table indexed by the data: only for
 * bytes anyone may see (a sealed cookie: header, ciphertext, tag). */
void icsoe_b64url_encode_public(const unsigned char *in, size_t n, char *out);
/* Strict decode (no padding, no whitespace). Returns decoded length or -1
 * if the input is malformed or would exceed outmax. */
long icsoe_b64url_decode(const char *in, size_t inlen, unsigned char *out,
                         size_t outmax);

#endif
