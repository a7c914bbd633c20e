-- wrk script for bench/run.py: POSTs prepared, signed Alexa requests in turn and stops after a set
-- number of responses (with bench/load.py, which ends wrk's sleep); wrk's -d is the time bound.
--
--   wrk -t1 -c32 -d120s --timeout 10s -s bench/wrk_post.lua http://127.0.0.1:PORT -- FILE LIMIT THREADS
--
-- FILE: the certificate chain URL on the first line, then per request: the Signature-256 value on
-- one line, the body length on the next, the body bytes and a newline.
-- LIMIT: responses to collect across all threads (THREADS: the -t given to wrk, default 1).

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local f = assert(io.open(args[1], "rb"))
  local cert_url = f:read("*l")
  prepared = {}
  while true do
    local signature = f:read("*l")
    if not signature or signature == "" then break end
    local length = tonumber(f:read("*l"))
    local body = f:read(length)
    f:read("*l")
    prepared[#prepared + 1] = wrk.format("POST", "/alexa", {
      ["Content-Type"] = "application/json; charset=utf-8",
      ["SignatureCertChainUrl"] = cert_url,
      ["Signature-256"] = signature,
    }, body)
  end
  f:close()
  -- init runs in each thread's own Lua state, where setup's table is not visible.
  limit = math.ceil(tonumber(args[2]) / tonumber(args[3] or "1"))
  next_index = 0
  responses = 0
  non200 = 0
end

function request()
  next_index = next_index % #prepared + 1
  return prepared[next_index]
end

function response(status, headers, body)
  responses = responses + 1
  if status ~= 200 then
    non200 = non200 + 1
  end
  if responses == limit then
    -- wrk's main thread sleeps for the whole -d; bench/load.py interrupts it (SIGINT, which
    -- makes wrk report at once) when it reads this line.
    io.stdout:write("BENCH_STOP\n")
    io.stdout:flush()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local total_responses, total_non200 = 0, 0
  for _, thread in ipairs(threads) do
    total_responses = total_responses + thread:get("responses")
    total_non200 = total_non200 + thread:get("non200")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"responses":%d,"non200":%d,' ..
    '"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,' ..
    '"min_us":%d,"max_us":%d,"mean_us":%.1f,"percentiles_us":[',
    summary.requests, summary.duration, total_responses, total_non200,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.max, latency.mean))
  local points = {}
  for p = 1, 99 do points[#points + 1] = p end
  -- (wrk answers 0 for the 100th percentile: bench/load.py uses the max instead)
  for _, p in ipairs({99.5, 99.9, 99.99}) do points[#points + 1] = p end
  for i, p in ipairs(points) do
    io.write(string.format('%s[%g,%d]', i > 1 and "," or "", p, latency:percentile(p)))
  end
  io.write("]}\n")
end
