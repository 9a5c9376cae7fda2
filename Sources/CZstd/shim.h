// The zstd compression library (Debian: libzstd-dev), including the streaming API.
#include <zstd.h>
#include <zstd_errors.h>
