# Face quality report on the shared labelled photos ($DOPPEL_TESTDATA/faces): detection
# rate, and for the look space same-person verification (ROC AUC, TAR at FAR 1e-3 over
# all pairs), rank-1 identification with one averaged embedding per person (leave-one-
# out), and the eight people present in both crop styles (glint gallery, pins queries).
# Usage: sh bench/eval_faces.sh BUILD_DIR   (make bench runs it)
BUILD=${1:?usage: eval_faces.sh BUILD_DIR}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DATA=${DOPPEL_TESTDATA:-}
[ -d "$DATA/faces/glint" ] || { echo "eval_faces: DOPPEL_TESTDATA not set; skipped"; exit 0; }
MODELS=${DOPPEL_MODELS:-$ROOT/models}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
for s in glint pins; do
    "$BUILD/bench/eval_faces" "$MODELS" "$DATA/faces/$s" "$T/$s.tsv" || exit 1
done
/usr/bin/python3 - "$T/glint.tsv" "$T/pins.tsv" <<'PY'
import sys
import numpy as np

def load(path):
    people, vecs, found, total = [], [], 0, 0
    for line in open(path, encoding="utf-8"):
        person, _, n, v = line.rstrip("\n").split("\t")
        total += 1
        if int(n) > 0 and v:
            found += 1
            people.append(person.replace("_", " ").lower())
            vecs.append(np.array(v.split(), dtype=np.float64))
    return people, np.array(vecs), found, total

def auc_tar(labels, E):
    S = E @ E.T
    iu = np.triu_indices(len(labels), 1)
    same = (np.array(labels)[:, None] == np.array(labels)[None, :])[iu]
    s = S[iu]
    pos, neg = s[same], s[~same]
    order = np.argsort(np.concatenate([pos, neg]), kind="mergesort")
    ranks = np.empty(len(order)); ranks[order] = np.arange(1, len(order) + 1)
    auc = (ranks[:len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg))
    thr = np.sort(neg)[::-1][max(0, int(len(neg) * 1e-3) - 1)]
    return auc, (pos > thr).mean(), len(pos), len(neg)

def rank1(labels, E):
    labels = np.array(labels); ok = 0
    names = sorted(set(labels))
    sums = {n: E[labels == n].sum(0) for n in names}
    counts = {n: (labels == n).sum() for n in names}
    for i, (l, v) in enumerate(zip(labels, E)):
        best, bs = None, -9
        for n in names:
            g = sums[n] - (v if n == l else 0)
            c = counts[n] - (1 if n == l else 0)
            if c == 0:
                continue
            g = g / np.linalg.norm(g)
            sc = g @ v
            if sc > bs:
                best, bs = n, sc
        ok += best == l
    return ok / len(labels)

for path, name in ((sys.argv[1], "glint"), (sys.argv[2], "pins")):
    people, E, found, total = load(path)
    auc, tar, npos, nneg = auc_tar(people, E)
    print("%-5s photos %4d, face found in %4d (%.1f%%); look: ROC AUC %.4f, TAR@FAR=1e-3 %.3f "
          "(%d same / %d different pairs), rank-1 (averaged gallery, leave-one-out) %.3f"
          % (name, total, found, 100.0 * found / total, auc, tar, npos, nneg, rank1(people, E)))
gp, G, _, _ = load(sys.argv[1])
pp, P, _, _ = load(sys.argv[2])
shared = sorted(set(gp) & set(pp))
gal = {n: G[np.array(gp) == n].mean(0) for n in sorted(set(gp))}
names = sorted(gal); M = np.array([gal[n] / np.linalg.norm(gal[n]) for n in names])
hits = tot = 0
for n, v in zip(pp, P):
    if n in shared:
        tot += 1
        hits += names[int(np.argmax(M @ v))] == n
print("cross-style (pins photos of the %d shared people vs %d glint galleries): look rank-1 %d/%d"
      % (len(shared), len(names), hits, tot))
PY
