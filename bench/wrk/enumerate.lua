-- An enumeration attack: random 14-character codes, all from one address.
local alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 1000)

request = function()
  local chars = {}
  for i = 1, 14 do
    local k = math.random(1, 32)
    chars[i] = alphabet:sub(k, k)
  end
  return wrk.format("GET", "/" .. table.concat(chars),
    { ["Accept"] = "application/json", ["X-Forwarded-For"] = "203.0.113.66" })
end
