"""Reference scores from fuzzywuzzy 0.18 + python-Levenshtein (Debian's python3-fuzzywuzzy
and python3-levenshtein) for tests/test_names.c.

Reads "a<TAB>b" lines on stdin (already processed: lower-case ASCII words separated by
single spaces); prints "ratio partial token_sort token_set wratio" per line.
"""
import sys

from fuzzywuzzy import fuzz

for line in sys.stdin:
    a, b = line.rstrip("\n").split("\t")
    print(fuzz.ratio(a, b), fuzz.partial_ratio(a, b),
          fuzz.token_sort_ratio(a, b, full_process=False),
          fuzz.token_set_ratio(a, b, full_process=False), fuzz.WRatio(a, b))
