/*
 * fuzz_exif: libFuzzer target over the EXIF TIFF-block parser alone, which the image
 * target reaches only through well-formed JPEG markers.
 */
#include "img/exif.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int o = exif_tiff_orientation(data, size);

    if (o < 1 || o > 8)
        __builtin_trap();
    o = exif_jpeg_orientation(data, size);
    if (o < 1 || o > 8)
        __builtin_trap();
    return 0;
}
