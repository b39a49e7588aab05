-- wrk script: a flash sale's burst of orders (bench/flash_sale/run.py starts it at the sale's opening).
--
--   wrk -t T -c C -d D -s orders.lua http://127.0.0.1:PORT/api/v1/sales/ID/orders -- \
--       RETRY_SHARE BUYERS THREADS LAG RUN REGIONS
--
-- Every new order is a new Idempotency-Key and, unless BUYERS > 0 makes phones repeat, a new buyer (a distinct
-- phone). With probability RETRY_SHARE a request repeats an earlier one of the same thread (the same key and the
-- same body) sent at least LAG requests before, so that its first answer has come back: a client retrying after a
-- lost answer. Status codes are counted per thread; done() adds them up and prints one JSON line, and writes the ids
-- of the orders answered 201 and 200 to the file named by FLASH_IDS_FILE, to compare with the database.

local threads = {}
local thread_count = 0

function setup(thread)
  thread:set("tid", thread_count)
  thread_count = thread_count + 1
  table.insert(threads, thread)
end

function init(args)
  retry_share = tonumber(args[1])
  buyers = tonumber(args[2])
  nthreads = tonumber(args[3])
  lag = tonumber(args[4])
  run = args[5]
  regions = {}
  for region in string.gmatch(args[6], "[^,]+") do
    regions[#regions + 1] = region
  end
  math.randomseed(os.time() * 1000 + tid * 7919)
  sent, retries, ring, ring_size = 0, 0, {}, 2 * lag + 2
  statuses = {}
  sold_out, buyer_limit, not_open, other_409 = 0, 0, 0, 0
  accepted, replayed = {}, {}
end

function request()
  if retry_share > 0 and sent > 2 * lag and math.random() < retry_share then
    retries = retries + 1
    return ring[(sent - lag - math.random(0, lag - 1)) % ring_size]
  end
  sent = sent + 1
  local n = tid + nthreads * (sent - 1)
  local buyer = n
  if buyers > 0 then
    buyer = n % buyers
  end
  local body = string.format(
    '{"quantity":1,"region":"%s","name":"Buyer %d","phone":"139%08d","address":"%d Flash Road, Ningbo"}',
    regions[(n % #regions) + 1], buyer, buyer, buyer + 1)
  local headers = {}
  headers["Content-Type"] = "application/json"
  headers["Idempotency-Key"] = string.format("%s-%d-%d", run, tid, sent)
  local req = wrk.format("POST", wrk.path, headers, body)
  ring[sent % ring_size] = req
  return req
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status == 201 then
    accepted[#accepted + 1] = string.match(body, '"id"%s*:%s*"([^"]+)"') or "?"
  elseif status == 200 then
    replayed[#replayed + 1] = string.match(body, '"id"%s*:%s*"([^"]+)"') or "?"
  elseif status == 409 then
    if string.find(body, "sold-out", 1, true) then
      sold_out = sold_out + 1
    elseif string.find(body, "buyer-limit", 1, true) then
      buyer_limit = buyer_limit + 1
    elseif string.find(body, "sale-not-open", 1, true) then
      not_open = not_open + 1
    else
      other_409 = other_409 + 1
    end
  end
end

local function encode(value)
  if type(value) == "table" then
    local parts = {}
    for key, item in pairs(value) do
      parts[#parts + 1] = string.format('"%s":%s', tostring(key), encode(item))
    end
    return "{" .. table.concat(parts, ",") .. "}"
  elseif type(value) == "string" then
    return '"' .. value .. '"'
  end
  return string.format("%.17g", value)
end

function done(summary, latency, requests)
  local totals = {
    sent = 0, retries = 0, sold_out = 0, buyer_limit = 0, not_open = 0, other_409 = 0, statuses = {},
    accepted = 0, replayed = 0,
  }
  local ids = os.getenv("FLASH_IDS_FILE")
  local file = ids and io.open(ids, "w")
  for _, thread in ipairs(threads) do
    for _, name in ipairs({ "sent", "retries", "sold_out", "buyer_limit", "not_open", "other_409" }) do
      totals[name] = totals[name] + thread:get(name)
    end
    for status, count in pairs(thread:get("statuses")) do
      local key = tostring(status)
      totals.statuses[key] = (totals.statuses[key] or 0) + count
    end
    for _, id in ipairs(thread:get("accepted")) do
      totals.accepted = totals.accepted + 1
      if file then
        file:write("201 ", id, "\n")
      end
    end
    for _, id in ipairs(thread:get("replayed")) do
      totals.replayed = totals.replayed + 1
      if file then
        file:write("200 ", id, "\n")
      end
    end
  end
  if file then
    file:close()
  end
  totals.duration_us = summary.duration
  totals.requests = summary.requests
  totals.errors = summary.errors
  totals.latency_us = {
    p50 = latency:percentile(50), p90 = latency:percentile(90), p99 = latency:percentile(99),
    mean = latency.mean, max = latency.max,
  }
  io.write("FLASH_JSON ", encode(totals), "\n")
end
