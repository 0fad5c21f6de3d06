-- Consumers: a random existing code per request, each from its own address.
-- CODES (a file of codes, one per line) and ACCEPT come from the environment.
local codes = {}
for line in io.lines(os.getenv("CODES")) do codes[#codes + 1] = line end
local accept = os.getenv("ACCEPT") or "application/json"
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 1000)

request = function()
  local code = codes[math.random(#codes)]
  local ip = "10." .. math.random(0, 255) .. "." .. math.random(0, 255) .. "." .. math.random(1, 254)
  return wrk.format("GET", "/" .. code, { ["Accept"] = accept, ["X-Forwarded-For"] = ip })
end

-- With RATE (requests/s over all CONNECTIONS) set, each connection waits between requests so
-- the offered load is fixed: latency is then measured at that load, not at saturation.
local rate = tonumber(os.getenv("RATE") or "")
local connections = tonumber(os.getenv("CONNECTIONS") or "32")
if rate then
  -- a connection's cycle is its pause plus the answer's latency (about a millisecond or two
  -- at these loads): pause a little less than the interval so the rate served is close to
  -- RATE (the benchmark prints the rate actually served)
  local pause = math.max(0, 1000 * connections / rate - 1.5)
  delay = function()
    return pause * (0.5 + math.random())  -- jittered around the mean, like real arrivals
  end
end
