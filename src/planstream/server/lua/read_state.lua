-- What a plan's snapshot is folded from, read at one instant: another node may
-- store a newer snapshot and trim the stream between two separate reads.
-- KEYS[1] metadata, KEYS[2] stream. Returns {} for no plan, or {stream number,
-- stored snapshot JSON or '', its seq, the JSON of every event after it...}.
local m = redis.call('HMGET', KEYS[1], 'stream', 'snap', 'snapseq')
if not m[1] then
  return {}
end
local snapseq = tonumber(m[3] or '0')
local out = {m[1], m[2] or '', snapseq}
for _, entry in ipairs(redis.call('XRANGE', KEYS[2], (snapseq + 1) .. '-0', '+')) do
  out[#out + 1] = entry[2][2]
end
return out
