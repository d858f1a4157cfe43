-- wrk: GET /api/search?q=... with a random query per request, from WEB_QUERIES (one query
-- a line: real names, misspelled names and prefixes, made by bench_web.sh).
local queries = {}
local seeded = false
local function encode(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end
for line in io.lines(os.getenv("WEB_QUERIES")) do queries[#queries + 1] = encode(line) end
request = function()
  if not seeded then
    math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 100000)
    seeded = true
  end
  return wrk.format("GET", "/api/search?k=10&q=" .. queries[math.random(1, #queries)])
end
