-- wrk: POST /configurations with the 20 Redis values host/benches/driver_call.rs validates.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [[{"configuration": {"name": "bench", "datastore": {"type": "redis", "version": "7.0"}, "values": {
  "maxmemory": "64mb", "maxmemory-policy": "allkeys-lru", "maxmemory-samples": "5",
  "appendonly": "yes", "appendfsync": "everysec", "timeout": "300", "tcp-keepalive": "60",
  "databases": "16", "hz": "10", "slowlog-log-slower-than": "10000", "slowlog-max-len": "128",
  "notify-keyspace-events": "Ex", "save": "3600 1 300 100", "lazyfree-lazy-eviction": "no",
  "activedefrag": "no", "hash-max-listpack-entries": "128", "list-max-listpack-size": "-2",
  "latency-monitor-threshold": "0", "maxclients": "1000", "loglevel": "notice"}}}]]

-- Any answer but 200 would make the numbers meaningless: count them.
function response(status, headers, body)
  if status ~= 200 then
    io.stderr:write("unexpected status " .. status .. ": " .. body .. "\n")
  end
end
