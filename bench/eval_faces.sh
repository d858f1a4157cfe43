# Face quality report on the shared labelled photos ($DOPPEL_TESTDATA/faces), one table
# for both embedding spaces on the same faces and pairs: detection rate; same-person
# verification over all pairs of a set (ROC AUC, TAR at FAR 1e-3 and 1e-4, equal error
# rate); rank-1 identification with one averaged embedding per person (leave-one-out);
# and the eight people present in both crop styles (pins photos against glint
# galleries). look compares by cosine, identity by Euclidean distance (dlib's way);
# id-noflip is the identity descriptor of the chip alone (without IDENTITY_FLIP).
# Then the identity threshold: where verification errs least with same- and
# different-person pairs weighted equally (LFW's balance, where dlib chose 0.6), over the
# pairs of both sets, and how 0.6 fares.
# Usage: sh bench/eval_faces.sh BUILD_DIR   (make bench runs it)
BUILD=${1:?usage: eval_faces.sh BUILD_DIR}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# Bring the benchmark programs up to date first (make's default goal does not build them).
make -s "$BUILD/bench/eval_faces" >/dev/null 2>&1 || true
DATA=${DOPPEL_TESTDATA:-}
[ -d "$DATA/faces/glint" ] || { echo "eval_faces: DOPPEL_TESTDATA not set; skipped"; exit 0; }
MODELS=${DOPPEL_MODELS:-$ROOT/models}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
for s in glint pins; do
    "$BUILD/bench/eval_faces" "$MODELS" "$DATA/faces/$s" "$T/$s.tsv" || exit 1
done
THRESHOLD=$(sed -n 's/^#define IDENTITY_THRESHOLD *\([0-9.]*\).*/\1/p' "$ROOT/src/face/identity.h")
/usr/bin/python3 - "$T/glint.tsv" "$T/pins.tsv" "$THRESHOLD" <<'PY'
import sys
import numpy as np

SPACES = ("look", "identity", "id-noflip")  # id-noflip: without IDENTITY_FLIP

def load(path):
    """Per photo with a face: person (normalised), look and identity vectors."""
    people, vecs, found, total = [], {s: [] for s in SPACES}, 0, 0
    for line in open(path, encoding="utf-8"):
        person, _, n, look, ident, plain = line.rstrip("\n").split("\t")
        total += 1
        if int(n) > 0 and look:
            found += 1
            people.append(person.replace("_", " ").lower())
            vecs["look"].append(np.array(look.split(), dtype=np.float64))
            vecs["identity"].append(np.array(ident.split(), dtype=np.float64))
            vecs["id-noflip"].append(np.array(plain.split(), dtype=np.float64))
    return np.array(people), {s: np.array(v) for s, v in vecs.items()}, found, total

def scores(space, A, B):
    """Similarity (higher = more alike): cosine for look, minus distance for identity."""
    if space == "look":
        return A @ B.T
    d2 = (A * A).sum(1)[:, None] + (B * B).sum(1)[None, :] - 2 * A @ B.T
    return -np.sqrt(np.maximum(d2, 0))

def pairs(space, labels, E):
    iu = np.triu_indices(len(labels), 1)
    same = (labels[:, None] == labels[None, :])[iu]
    s = scores(space, E, E)[iu]
    return s[same], s[~same]

def auc(pos, neg):
    order = np.argsort(np.concatenate([pos, neg]), kind="mergesort")
    ranks = np.empty(len(order)); ranks[order] = np.arange(1, len(order) + 1)
    return (ranks[:len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg))

def tar_at(pos, neg, far):
    thr = np.sort(neg)[::-1][max(0, int(len(neg) * far) - 1)]
    return (pos > thr).mean()

def sweep(pos, neg):
    """Thresholds t (accept when score > t) with their FAR and FRR."""
    t = np.unique(np.concatenate([pos, neg]))
    far = 1 - np.searchsorted(np.sort(neg), t, side="right") / len(neg)
    frr = np.searchsorted(np.sort(pos), t, side="right") / len(pos)
    return t, far, frr

def eer(pos, neg):
    t, far, frr = sweep(pos, neg)
    i = np.argmin(np.abs(far - frr))
    return (far[i] + frr[i]) / 2

def rank1(space, labels, E):
    """Leave-one-out rank-1 against per-person averaged galleries."""
    names = sorted(set(labels))
    sums = np.array([E[labels == n].sum(0) for n in names])
    counts = np.array([(labels == n).sum() for n in names], dtype=np.float64)
    ok = 0
    for l, v in zip(labels, E):
        own = np.array([n == l for n in names])
        g = (sums - own[:, None] * v) / np.maximum(counts - own, 1)[:, None]
        if space == "look":
            g = g / np.linalg.norm(g, axis=1, keepdims=True)
        s = scores(space, v[None, :], g)[0]
        s[(counts - own) == 0] = -np.inf
        ok += names[int(np.argmax(s))] == l
    return ok / len(labels)

def cross(space, gp, G, pp, P):
    names = sorted(set(gp))
    gal = np.array([G[gp == n].mean(0) for n in names])
    if space == "look":
        gal = gal / np.linalg.norm(gal, axis=1, keepdims=True)
    shared = set(gp) & set(pp)
    keep = np.array([p in shared for p in pp])
    best = np.argmax(scores(space, P[keep], gal), axis=1)
    return sum(names[b] == p for b, p in zip(best, pp[keep])), int(keep.sum()), len(shared)

sets = {}
for path, name in ((sys.argv[1], "glint"), (sys.argv[2], "pins")):
    sets[name] = load(path)
print("%-5s %-9s %6s %6s %8s %10s %10s %7s %7s" % ("set", "space", "photos", "faces", "ROC_AUC",
      "TAR@1e-3", "TAR@1e-4", "EER", "rank-1"))
for name, (labels, E, found, total) in sets.items():
    for space in SPACES:
        pos, neg = pairs(space, labels, E[space])
        print("%-5s %-9s %6d %6d %8.4f %10.3f %10.3f %7.4f %7.3f" % (name, space, total, found,
              auc(pos, neg), tar_at(pos, neg, 1e-3), tar_at(pos, neg, 1e-4), eer(pos, neg),
              rank1(space, labels, E[space])))
    pos, neg = pairs("look", labels, E["look"])
    print("%-5s pairs: %d same-person, %d different-person" % (name, len(pos), len(neg)))
(gp, G, _, _), (pp, P, _, _) = sets["glint"], sets["pins"]
for space in SPACES:
    hits, tot, nshared = cross(space, gp, G[space], pp, P[space])
    print("cross-style %-9s rank-1 %d/%d (pins photos of the %d shared people vs %d glint galleries)"
          % (space, hits, tot, nshared, len(set(gp))))
def at(pos, neg, d):
    """TAR, FAR and balanced accuracy when distances below d are the same person."""
    tar, far = (-pos < d).mean(), (-neg < d).mean()
    return tar, far, (tar + 1 - far) / 2

def calibrate(name, pos, neg):
    t, far, frr = sweep(pos, neg)
    i = np.argmin(far + frr)
    line = "identity threshold, %s: best balanced accuracy %.4f at distance %.3f" % (
        name, 1 - (far[i] + frr[i]) / 2, -t[i])
    for d, who in ((0.6, "dlib's"), (float(sys.argv[3]), "doppel's")):
        line += "; at %s %.2f: TAR %.3f, FAR %.4f, balanced %.4f" % ((who, d) + at(pos, neg, d))
    print(line)

both = [[], []]
for name, (labels, E, _, _) in sets.items():
    pos, neg = pairs("identity", labels, E["identity"])
    calibrate(name, pos, neg)
    both[0].append(pos), both[1].append(neg)
calibrate("both sets", np.concatenate(both[0]), np.concatenate(both[1]))
PY
