-- Forget a plan if its head is still the given one. KEYS: metadata, stream,
-- idempotency keys and their order; ARGV[1] stream number, ARGV[2] head seq.
local m = redis.call('HMGET', KEYS[1], 'stream', 'seq')
if m[1] ~= ARGV[1] or m[2] ~= ARGV[2] then
  return 0
end
redis.call('DEL', unpack(KEYS))
return 1
