#include <stdio.h>
#include "log.h"

/* Messages longer than this are truncated: a log line is not a transport. */
#define ICSOE_LOG_LINE_MAX 1024

void icsoe_vlog(const icsoe_logger *lg, int level, const char *fmt, va_list ap)
{
    char line[ICSOE_LOG_LINE_MAX];

    if (lg == NULL || lg->fn == NULL)
        return;
    vsnprintf(line, sizeof(line), fmt, ap);
    lg->fn(lg->ctx, level, line);
}

void icsoe_log(const icsoe_logger *lg, int level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    icsoe_vlog(lg, level, fmt, ap);
    va_end(ap);
}
