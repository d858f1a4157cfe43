#!/usr/bin/python3
# The catalogue a crawl of tests/fake_tmdb must produce, worked out from the recorded
# responses and the fake server's id rules (not from the crawler's code), in the line
# format of crawl_dump in tests/test_crawl.sh:
#   crawl_expect.py TMDB_DIR PAGES CAST_MAX MISSING_MOD
# for `fake_tmdb --pages PAGES --cast-max CAST_MAX --missing-mod MISSING_MOD` and
# `crawl popular --pages PAGES; crawl credits --movies --pages 1; crawl credits --tv
# --pages 1; crawl images`.
import json
import sys

tmdb, pages, cast_max, missing = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])


def load(rel):
    with open(f"{tmdb}/{rel}", encoding="utf-8") as f:
        return json.load(f)


def year(date):
    return int(date[:4]) if date and date[:4].isdigit() else ""


people, titles, credits, queues, state = {}, {}, {}, {}, {}

popular = load("recorded_2022/person__popular.json")
for p in range(1, pages + 1):
    for i, r in enumerate(popular["results"]):
        pid = p * 1000 + i + 1
        people[pid] = r["name"]
        queues[("images", pid)] = None
        for k in r.get("known_for", [])[:10]:
            kind = k["media_type"]
            name = k.get("title") if kind == "movie" else k.get("name")
            y = year(k.get("release_date") if kind == "movie" else k.get("first_air_date"))
            titles.setdefault((kind, k["id"]), (name, y))
            credits[(pid, kind, k["id"])] = ("", "", "")
state["popular.page"] = str(pages)
state["popular.total"] = str(pages)


def top(kind, rec, base, cast_rec):
    lst = load(rec)
    for i, r in enumerate(lst["results"]):
        tid = base + 100 + i
        name = r["title"] if kind == "movie" else r["name"]
        y = year(r.get("release_date") if kind == "movie" else r.get("first_air_date"))
        titles[(kind, tid)] = (name, y)
        queues[("credits." + kind, tid)] = (1, 200)
        cast = load(cast_rec)["cast"][:cast_max]
        for c in cast:
            pid = c["id"] + (tid % 3) * 10000000
            people[pid] = c["name"]
            queues[("images", pid)] = None
            order = c["order"] + 1
            if kind == "movie":
                credits[(pid, kind, tid)] = (c["character"], order, "")
            else:
                credits[(pid, kind, tid)] = (c["roles"][0]["character"], order,
                                             c["total_episode_count"])
    state[f"top_rated.{kind}.page"] = "1"
    state[f"top_rated.{kind}.total"] = str(pages)


top("movie", "recorded_2022/movie__top_rated.json", 5000000, "recorded_2022/movie__cast.json")
top("tv", "recorded_2022/tv__top_rated.json", 6000000, "responses/tv_series/aggregate_credits.json")

# images: 404 for ids divisible by missing; no profiles for ids divisible by 5; else the
# template's profiles, wide (>= 500 px) first, then by vote average and count.
profiles = load("responses/people/images.json")["profiles"]
order = sorted(range(len(profiles)),
               key=lambda i: (profiles[i]["width"] < 500, -profiles[i]["vote_average"],
                              -profiles[i]["vote_count"], i))[:5]
embed = {}
for (q, key) in list(queues):
    if q != "images":
        continue
    if missing and key % missing == 0:
        queues[(q, key)] = (2, 404)
        continue
    queues[(q, key)] = (1, 200)
    if key % 5 == 0:
        continue
    files = [f"{r + 1}_p{key}_{i}{profiles[i]['file_path'][1:]}" for r, i in enumerate(order)]
    data = {"photos": [{"file": f, "rank": r + 1} for r, f in enumerate(files)],
            "display": "display_" + files[0][2:]}
    embed[key] = (data, files + [data["display"]])
    queues[("embed", key)] = (0, 0)

out = []
out += [f"P|{k}|{v}" for k, v in people.items()]
out += [f"T|{k[0]}|{k[1]}|{v[0]}|{v[1]}" for k, v in titles.items()]
out += [f"C|{k[0]}|{k[1]}|{k[2]}|{v[0]}|{v[1]}|{v[2]}" for k, v in credits.items()]
out += [f"Q|{k[0]}|{k[1]}|{v[0]}|{v[1]}" for k, v in queues.items()]
out += [f"E|{k}|" + json.dumps(v[0], sort_keys=True, separators=(",", ":")) for k, v in embed.items()]
out += [f"F|{k}/{f}" for k, v in embed.items() for f in v[1]]
out += [f"S|{k}|{v}" for k, v in state.items()]
print("\n".join(sorted(out)))
