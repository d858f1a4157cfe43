-- wrk: GET /api/similar/ID?k=10 for a random person per request (ids 1..WEB_PEOPLE).
local n = tonumber(os.getenv("WEB_PEOPLE") or "1000")
local seeded = false
request = function()
  if not seeded then
    math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 100000)
    seeded = true
  end
  return wrk.format("GET", "/api/similar/" .. math.random(1, n) .. "?k=10")
end
