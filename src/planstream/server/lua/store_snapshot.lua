-- Store a folded snapshot if it is newer than the stored one, and trim.
-- KEYS[1] metadata, KEYS[2] stream; ARGV[1] the stream number it belongs to,
-- ARGV[2] its head seq, ARGV[3] its JSON, ARGV[4] retention.
local m = redis.call('HMGET', KEYS[1], 'stream', 'snapseq', 'seq')
if m[1] ~= ARGV[1] or tonumber(m[2] or '0') >= tonumber(ARGV[2]) then
  return 0
end
redis.call('HSET', KEYS[1], 'snapseq', ARGV[2], 'snap', ARGV[3])
local minid = math.min(tonumber(m[3]) - tonumber(ARGV[4]) + 1, tonumber(ARGV[2]) + 1)
if minid > 1 then
  redis.call('XTRIM', KEYS[2], 'MINID', '~', minid)
end
return 1
