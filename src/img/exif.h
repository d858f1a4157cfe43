/*
 * exif: finds the EXIF orientation tag in a JPEG's APP1 segment.
 *
 * Untrusted input: every offset is bounds-checked against the segment, loops are bounded
 * by the segment size, and anything unexpected reads as "no orientation" (1), because a
 * photo with a broken EXIF block is still a photo.
 */
#ifndef DOPPEL_EXIF_H
#define DOPPEL_EXIF_H

#include <stddef.h>

/* Returns the EXIF orientation (1..8) of the JPEG in p, or 1 when absent or malformed. */
int exif_jpeg_orientation(const unsigned char *p, size_t n);

/* Returns the orientation found in a TIFF block (the body of an EXIF segment after
 * "Exif\0\0"), or 1. */
int exif_tiff_orientation(const unsigned char *t, size_t n);

#endif
