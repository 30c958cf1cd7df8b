/* Logging without a logging system: libicsoe never writes to stdout, stderr
 * or syslog itself.  Each front end passes a callback (ap_log_error,
 * pam_syslog, fprintf) and the library reports through it.  A NULL logger or
 * NULL callback discards messages.  Messages never contain passwords, tokens
 * or cookies. */
#ifndef ICSOE_LOG_H
#define ICSOE_LOG_H

#include <stdarg.h>

enum icsoe_log_level {
    ICSOE_LOG_ERR = 3,
    ICSOE_LOG_WARNING = 4,
    ICSOE_LOG_NOTICE = 5,
    ICSOE_LOG_INFO = 6,
    ICSOE_LOG_DEBUG = 7
};

typedef void (*icsoe_log_fn)(void *ctx, int level, const char *msg);

typedef struct icsoe_logger {
    icsoe_log_fn fn;
    void *ctx;
} icsoe_logger;

void icsoe_log(const icsoe_logger *lg, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void icsoe_vlog(const icsoe_logger *lg, int level, const char *fmt, va_list ap);

#endif
