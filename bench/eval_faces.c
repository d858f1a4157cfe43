/*
 * eval_faces: embeds every photo of a labelled face folder (DIR/<person>/<photo>) for the
 * quality report of bench/eval_faces.sh: one line per photo, "person<TAB>file<TAB>faces
 * <TAB>look v1 v2 ...<TAB>identity v1 v2 ...<TAB>identity v1 v2 ..." (the largest face's
 * look embedding, and its identity descriptor with IDENTITY_FLIP, then without; empty
 * vectors when no face was found).
 *
 * Usage: eval_faces MODELS_DIR FACES_DIR OUT.tsv
 */
#include "face/detect.h"
#include "face/embed.h"
#include "face/identity.h"
#include "util/progress.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted entry names of dir (no dot files); caller frees each and the array. */
static char **list_dir(const char *dir, int *n)
{
    DIR *d = opendir(dir);
    struct dirent *p;
    char **v = NULL;

    *n = 0;
    while (d != NULL && (p = readdir(d)) != NULL) {
        if (p->d_name[0] == '.' || strstr(p->d_name, ".json") != NULL)
            continue;
        v = realloc(v, sizeof(char *) * (size_t)(*n + 1));
        v[(*n)++] = strdup(p->d_name);
    }
    if (d != NULL)
        closedir(d);
    if (*n > 1)
        qsort(v, (size_t)*n, sizeof v[0], cmp_str);
    return v;
}

struct models {
    struct face_detector *det;
    struct embedder *look;
    struct identity *identity;
};

static void print_vec(FILE *out, const float *v, int n)
{
    fputs("\t", out);
    for (int k = 0; k < n; k++)
        fprintf(out, "%s%.6f", k ? " " : "", v[k]);
}

static void embed_one(const struct models *m, const char *person, const char *path, FILE *out)
{
    struct face_box faces[32];
    struct embedding em;
    float d[IDENTITY_DIM], plain[IDENTITY_DIM];
    struct image im;
    struct err e;
    int n = 0, best;

    if (img_load_file(path, NULL, &im, &e) != IMG_OK ||
        face_detect(m->det, &im, NULL, faces, 32, &n, &e) != 0)
        n = 0;
    best = face_largest(faces, n);
    fprintf(out, "%s\t%s\t%d", person, path, n);
    if (n > 0 && embed_look(m->look, &im, &faces[best], 1, &em, &e) == 0 &&
        identity_embed(m->identity, NULL, &im, &faces[best], 1, IDENTITY_FLIP, d, &e) == 0 &&
        identity_embed(m->identity, NULL, &im, &faces[best], 1, 0, plain, &e) == 0) {
        print_vec(out, em.v, em.dim);
        print_vec(out, d, IDENTITY_DIM);
        print_vec(out, plain, IDENTITY_DIM);
    } else {
        fputs("\t\t\t", out);
    }
    fputs("\n", out);
    img_release(&im);
}

int main(int argc, char **argv)
{
    struct models m = {0};
    struct progress pr;
    struct err e;
    char **people;
    int np, total = 0;
    FILE *out;

    if (argc != 4) {
        fprintf(stderr, "usage: eval_faces MODELS_DIR FACES_DIR OUT.tsv\n");
        return 2;
    }
    if (face_detector_load(argv[1], &m.det, &e) != 0 || embedder_load(argv[1], &m.look, &e) != 0 ||
        identity_load(argv[1], &m.identity, &e) != 0) {
        fprintf(stderr, "eval_faces: %s\n", e.msg);
        return 1;
    }
    out = fopen(argv[3], "w");
    people = list_dir(argv[2], &np);
    if (out == NULL || np == 0) {
        fprintf(stderr, "eval_faces: cannot write %s or no people in %s\n", argv[3], argv[2]);
        return 1;
    }
    for (int i = 0; i < np; i++) {
        char sub[4096];
        int nf;
        char **files;

        snprintf(sub, sizeof sub, "%s/%s", argv[2], people[i]);
        files = list_dir(sub, &nf);
        total += nf;
        for (int k = 0; k < nf; k++)
            free(files[k]);
        free(files);
    }
    progress_init(&pr, "embed", (uint64_t)total);
    for (int i = 0; i < np; i++) {
        char sub[4096], path[8192];
        int nf;
        char **files;

        snprintf(sub, sizeof sub, "%s/%s", argv[2], people[i]);
        files = list_dir(sub, &nf);
        for (int k = 0; k < nf; k++) {
            snprintf(path, sizeof path, "%s/%s", sub, files[k]);
            embed_one(&m, people[i], path, out);
            progress_add(&pr, 1);
            free(files[k]);
        }
        free(files);
        free(people[i]);
    }
    progress_finish(&pr);
    free(people);
    fclose(out);
    identity_free(m.identity);
    embedder_free(m.look);
    face_detector_free(m.det);
    return 0;
}
