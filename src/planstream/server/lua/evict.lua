-- Forget a plan if its head is still the given one. KEYS[1] metadata, KEYS[2]
-- stream; ARGV[1] stream number, ARGV[2] head seq.
local m = redis.call('HMGET', KEYS[1], 'stream', 'seq')
if m[1] ~= ARGV[1] or m[2] ~= ARGV[2] then
  return 0
end
redis.call('DEL', KEYS[1], KEYS[2])
return 1
