/* icsoectl output: aligned tables and key/value blocks for people, JSON for
 * scripts.  Everything is written to one FILE (stdout); nothing here ever
 * prints a token or a password because the callers never hand them over. */
#ifndef ICSOECTL_OUTPUT_H
#define ICSOECTL_OUTPUT_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>

/* ---- aligned tables ---- */
typedef struct ctl_table ctl_table;

/* ncols columns; headers may be NULL (no header line). NULL on ENOMEM. */
ctl_table *ctl_table_new(size_t ncols, const char *const *headers);
/* Append a row of ncols cells (copied; NULL prints as "-", "" as nothing).
 * -1 on ENOMEM. */
int ctl_table_add(ctl_table *t, const char *const *cells);
/* Print with columns padded to their widest cell (in code points), two
 * spaces between columns, no trailing blanks. */
void ctl_table_print(const ctl_table *t, FILE *f);
void ctl_table_free(ctl_table *t);

/* ---- JSON writer ----
 * A streaming writer that tracks nesting so commas come out right.  Strings
 * are escaped per RFC 8259; bytes that are not UTF-8 become U+FFFD, so the
 * output always parses. */
#define CTL_JSON_MAX_DEPTH 16

typedef struct ctl_json {
    FILE *f;
    int depth;
    int count[CTL_JSON_MAX_DEPTH]; /* members written at each level */
    int after_key;                 /* a key was written, value pending */
} ctl_json;

void ctl_json_init(ctl_json *j, FILE *f);
void ctl_json_begin_object(ctl_json *j);
void ctl_json_end_object(ctl_json *j);
void ctl_json_begin_array(ctl_json *j);
void ctl_json_end_array(ctl_json *j);
void ctl_json_key(ctl_json *j, const char *key);
void ctl_json_string(ctl_json *j, const char *s);  /* NULL -> null */
void ctl_json_int(ctl_json *j, long long v);
void ctl_json_bool(ctl_json *j, int v);
void ctl_json_null(ctl_json *j);
/* Terminate the document with a newline. */
void ctl_json_finish(ctl_json *j);

/* Convenience: "key": value members. */
void ctl_json_kv_string(ctl_json *j, const char *key, const char *s);
void ctl_json_kv_int(ctl_json *j, const char *key, long long v);
void ctl_json_kv_bool(ctl_json *j, const char *key, int v);

/* Escape s as a JSON string (with quotes) onto f. */
void ctl_json_write_string(FILE *f, const char *s);

/* ---- helpers ---- */
/* Number of code points in a UTF-8 string (invalid bytes count as one). */
size_t ctl_display_width(const char *s);
/* "2025-03-01T12:00:00Z", or "-" for t == 0. */
void ctl_format_time(time_t t, char *out, size_t outlen);

#endif
