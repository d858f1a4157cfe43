/*
 * fuzz_image: libFuzzer target over the image decoding entry point (format sniffing,
 * TurboJPEG, libpng, libwebp, EXIF orientation) and the header probe. Limits are kept
 * small so the fuzzer explores parsing rather than allocating large canvases.
 */
#include "img/exif.h"
#include "img/image.h"
#include "img/resize.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct img_opts o = {.max_bytes = 1 << 20, .max_pixels = 4000000};
    struct img_info info;
    struct image im, small;
    struct err e;

    (void)exif_jpeg_orientation(data, size);
    (void)img_probe(data, size, &o, &info, &e);
    o.min_side = size & 1 ? 32 : 0;
    if (img_decode(data, size, &o, &im, &e) == IMG_OK) {
        img_resize_bicubic(&im, 17, 13, &small);
        img_release(&small);
    }
    img_release(&im);
    return 0;
}
