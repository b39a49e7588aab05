-- wrk script for plain GETs (/live, a sale's stock): wrk's own request path (no Lua per request); done() prints
-- the summary as one JSON line for bench/flash_sale/run.py.

local function encode(value)
  if type(value) == "table" then
    local parts = {}
    for key, item in pairs(value) do
      parts[#parts + 1] = string.format('"%s":%s', tostring(key), encode(item))
    end
    return "{" .. table.concat(parts, ",") .. "}"
  end
  return string.format("%.17g", value)
end

function done(summary, latency, requests)
  io.write("FLASH_JSON ", encode({
    duration_us = summary.duration,
    requests = summary.requests,
    errors = summary.errors,
    latency_us = {
      p50 = latency:percentile(50), p90 = latency:percentile(90), p99 = latency:percentile(99),
      mean = latency.mean, max = latency.max,
    },
  }), "\n")
end
