/*
 * download: one large file over HTTP(S) with libcurl, resumable and verified, for
 * model weights that do not come from npm (CLIP's checkpoint from Hugging Face).
 *
 * Bytes go to DEST.part and are appended to it: a run that stops (network, Ctrl-C, a
 * server that drops the connection) leaves the part, and the next run asks for the rest
 * with a Range request. A server that answers a Range request with the whole file (200)
 * restarts the part from zero; one that says the range is past the end (416) means the
 * part is already whole. The finished file's sha256 must equal the expected one (the
 * caller's, else the sha256 Hugging Face reports for the object in its X-Linked-Etag
 * header); only then is the part renamed to DEST. A mismatch deletes the part.
 * Redirects are followed (Hugging Face sends files from its CDN); every request has a
 * connect timeout and gives up when the transfer stalls.
 */
#ifndef DOPPEL_DOWNLOAD_H
#define DOPPEL_DOWNLOAD_H

#include "util/err.h"

enum download_rc {
    DOWNLOAD_OK = 0,
    DOWNLOAD_ERR_NET,      /* could not connect, an HTTP error, a stalled transfer */
    DOWNLOAD_ERR_IO,       /* the destination could not be written */
    DOWNLOAD_ERR_CHECKSUM, /* the bytes are not the file expected (the part is deleted) */
    DOWNLOAD_ERR_NO_SUM,   /* no expected sha256 given and the server reported none */
};

struct download_opts {
    const char *url;
    const char *dest;
    const char *sha256; /* 64 hex digits, or NULL: the server's X-Linked-Etag */
    int progress;       /* 1: a progress bar on stderr */
    long stall_seconds; /* give up when under 1 KB/s for this long; 0 = 60 */
};

/* Downloads o->url to o->dest as described above; *sha256_out (65 bytes, may be NULL)
 * receives the file's digest. Returns a download_rc with e set on failure. */
int download_file(const struct download_opts *o, char *sha256_out, struct err *e);

#endif
