-- wrk-random.lua: every request a random customer's token and a random
-- setting, from the tokens `profileapi loadtest --prepare --tokens-out FILE`
-- writes ("PATH TOKEN" lines, PATH the settings path of the token's region).
--
--   TOKENS=/tmp/plt/tokens.txt wrk -t2 -c64 -d30s --latency -s scripts/wrk-random.lua http://127.0.0.1:18080
--
-- Each wrk thread reads the whole file: a million tokens take about 1 GB
-- per thread. HOST, if set, is the Host every request names, for a server
-- that listens elsewhere than the endpoint the tokens were issued for
-- (scripts/ab.sh).

local fields = {"Profile.name", "Profile.givenName", "Profile.email", "Profile.mobileNumber"}
local paths, headers, n = {}, {}, 0
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
end

function init(args)
  local file = os.getenv("TOKENS") or args[1]
  local host = os.getenv("HOST") -- nil: wrk's own, from the URL
  if not file then
    error("set TOKENS to the file of `profileapi loadtest --tokens-out`")
  end
  for line in io.lines(file) do
    local path, token = line:match("^(%S+) (%S+)$")
    if path then
      n = n + 1
      paths[n] = path
      headers[n] = {["Authorization"] = "Bearer " .. token, ["Host"] = host}
    end
  end
  if n == 0 then
    error("no tokens in " .. file)
  end
  math.randomseed(os.time() * 1000 + (id or 0))
end

function request()
  local i = math.random(n)
  return wrk.format("GET", paths[i] .. fields[math.random(4)], headers[i])
end
