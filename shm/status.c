/*
 * status.c - names for ember status codes (see status.h).
 */
#include "status.h"

const char *ember_strerror(int status)
{
    switch (status) {
#define EMBER_STATUS_CASE(name, val, msg) case (val): return (msg);
    EMBER_STATUS_TABLE(EMBER_STATUS_CASE)
#undef EMBER_STATUS_CASE
    }
    return "unknown error";
}
