# Name search over 406,323 names: the 121,936 real names of
# $DOPPEL_TESTDATA/names/real_person_names.txt padded with generated names (a real first
# word joined to a real last word, drawn with a fixed seed, never repeating a name), with
# Zipf-like popularities. 2,000 queries from real names: 1-2 random edits, adjacent
# transpositions, dropped accents, first name only, last name only, swapped order, and
# 2-8 character prefixes. Reports doppel's p50/p99 per path, then the agreement of
# doppel's top-1 and top-10 with fuzzywuzzy's process.extract(scorer=WRatio) on a sample
# of the fuzzy queries (BENCH_FW_QUERIES, default 300; fuzzywuzzy takes seconds per query).
BUILD=${1:?usage: bench_names.sh BUILD_DIR}
DATA=${DOPPEL_TESTDATA:-}
[ -f "$DATA/names/real_person_names.txt" ] || { echo "bench_names: DOPPEL_TESTDATA not set; skipped"; exit 0; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
/usr/bin/python3 - "$DATA/names/real_person_names.txt" "$T" <<'PY' || exit 1
import random, sys, unicodedata
random.seed(20261123)
real = [l.strip() for l in open(sys.argv[1], encoding="utf-8") if l.strip()]
seen = set(real)
names = list(real)
firsts = [n.split()[0] for n in real if len(n.split()) >= 2]
lasts = [n.split()[-1] for n in real if len(n.split()) >= 2]
while len(names) < 406323:
    n = random.choice(firsts) + " " + random.choice(lasts)
    if n not in seen:
        seen.add(n); names.append(n)
with open(sys.argv[2] + "/names.txt", "w", encoding="utf-8") as f:
    for n in names:
        f.write("%s\t%.3f\n" % (n, 1000.0 / random.randint(1, 100000)))
def edit(s, k):
    s = list(s)
    for _ in range(k):
        i = random.randrange(len(s)); op = random.randrange(3)
        if op == 0: s[i] = random.choice("abcdefghijklmnopqrstuvwxyz")
        elif op == 1 and len(s) > 1: del s[i]
        else: s.insert(i, random.choice("abcdefghijklmnopqrstuvwxyz"))
    return "".join(s)
def transpose(s):
    if len(s) < 3: return s
    i = random.randrange(len(s) - 1); s = list(s); s[i], s[i + 1] = s[i + 1], s[i]; return "".join(s)
def unaccent(s):
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))
multi = [n for n in real if len(n.split()) >= 2 and len(n) >= 6]
accented = [n for n in multi if unaccent(n) != n and unaccent(n).isascii()]
kinds = ["edit", "transpose", "accent", "first", "last", "swap", "prefix", "prefix"]
with open(sys.argv[2] + "/queries.txt", "w", encoding="utf-8") as f:
    for i in range(2000):
        kind = kinds[i % len(kinds)]
        n = random.choice(accented if kind == "accent" else multi)
        w = n.split()
        q = {"edit": lambda: edit(n, random.randint(1, 2)), "transpose": lambda: transpose(n),
             "accent": lambda: unaccent(n), "first": lambda: w[0], "last": lambda: w[-1],
             "swap": lambda: " ".join(w[1:] + w[:1]),
             "prefix": lambda: n.lower()[:random.randint(2, 8)]}[kind]()
        f.write("%s\t%s\n" % (kind, q.replace("\t", " ")))
PY
echo "data: 406,323 names (121,936 real + generated), 2,000 queries"
"$BUILD/bench/bench_names" "$T/names.txt" "$T/queries.txt" "$T/doppel_top10.tsv" || exit 1
/usr/bin/python3 -c 'import fuzzywuzzy, Levenshtein' 2>/dev/null ||
    { echo "bench_names: python3-fuzzywuzzy not installed; no agreement figures"; exit 0; }
/usr/bin/python3 - "$T/names.txt" "$T/doppel_top10.tsv" "${BENCH_FW_QUERIES:-300}" <<'PY'
import multiprocessing, random, sys, time
from fuzzywuzzy import fuzz, utils
names = [l.split("\t")[0] for l in open(sys.argv[1], encoding="utf-8")]
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[2], encoding="utf-8")]
random.seed(7)
sample = random.sample(rows, min(int(sys.argv[3]), len(rows)))
processed = [utils.full_process(n) for n in names]
def top10(q):
    pq = utils.full_process(q)
    if not pq:
        return []
    scored = [(fuzz.WRatio(pq, p, full_process=False), i) for i, p in enumerate(processed) if p]
    scored.sort(key=lambda t: -t[0])
    return [(names[i], s) for s, i in scored[:11]]
t0 = time.time()
with multiprocessing.Pool(2) as pool:
    theirs = pool.map(top10, [r[0] for r in sample])
secs = time.time() - t0
unique = agree1 = 0
overlap = []
for r, t in zip(sample, theirs):
    mine = r[1::2]
    if not t:
        continue
    if len(t) < 2 or t[0][1] > t[1][1]:
        unique += 1
        agree1 += bool(mine) and mine[0] == t[0][0]
    cut = t[9][1] if len(t) >= 10 else -1
    want = set(n for n, s in t[:10])
    tied = set(n for n, s in t if s == cut)
    overlap.append(sum(1 for m in mine[:10] if m in want or m in tied) / max(1, min(10, len(t))))
print("fuzzywuzzy WRatio over %d names: %.1f s per query (2 processes)" % (len(names), 2 * secs / len(sample)))
print("top-1 agreement where fuzzywuzzy's top score is unique: %d/%d = %.1f%%" % (agree1, unique, 100.0 * agree1 / max(1, unique)))
print("top-10 overlap (ties at the 10th score count): %.1f%% over %d queries" % (100.0 * sum(overlap) / max(1, len(overlap)), len(overlap)))
PY
