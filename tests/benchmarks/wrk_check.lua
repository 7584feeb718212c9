-- wrk script for bench_requests: checks every response, not only a sample.
-- Usage: wrk ... -s tests/benchmarks/wrk_check.lua URL -- EXPECTED_TEXT
-- Counts responses whose status is not 200 (wrk's own "Non-2xx or 3xx" counter ignores 3xx,
-- so a redirect to the sign-in page would otherwise pass) and 200s whose body lacks the text.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  expected = args[1]
  checked = 0
  bad_status = 0
  bad_body = 0
end

function response(status, headers, body)
  checked = checked + 1
  if status ~= 200 then
    bad_status = bad_status + 1
  elseif expected and not string.find(body, expected, 1, true) then
    bad_body = bad_body + 1
  end
end

function done(summary, latency, requests)
  local c, s, b = 0, 0, 0
  for _, thread in ipairs(threads) do
    c = c + thread:get("checked")
    s = s + thread:get("bad_status")
    b = b + thread:get("bad_body")
  end
  io.write(string.format("checked responses: %d\n", c))
  io.write(string.format("non-200 responses: %d\n", s))
  io.write(string.format("200 without expected text: %d\n", b))
end
