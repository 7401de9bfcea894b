-- Append a batch to one plan's stream, atomically (protocol §6; issue 11 item 1).
-- KEYS[1] the plan's metadata hash, KEYS[2] its stream (one hash tag: one slot).
-- ARGV[1] retention, ARGV[2] plan_ttl in ms, ARGV[3] terminal status the batch
-- ends with ('' if none), ARGV[4] notification channel, ARGV[5] plan id,
-- ARGV[6] the events' JSON up to the event id's stream part, ARGV[7..] each
-- event's JSON after its seq. Returns {'closed', status} or
-- {'ok', stream, first seq of the batch, head, first retained, new stream}.
local meta, stream = KEYS[1], KEYS[2]
local m = redis.call('HMGET', meta, 'seq', 'stream', 'ended', 'snapseq')
if m[3] then
  return {'closed', m[3]}
end
local count = #ARGV - 6
local head = tonumber(m[1] or '0')
local number = m[2]
if count == 0 then
  return {'ok', number or '', head + 1, head, 0, 0}
end
local new = 0
if not number then
  -- a stream's number is its creation time in microseconds: unique per plan id,
  -- and the plan index's order (GET /v1/plans)
  local t = redis.call('TIME')
  number = t[1] .. string.format('%06d', tonumber(t[2]))
  new = 1
end
local start = head + 1
local prefix = ARGV[6] .. number .. '.'
for i = 1, count do
  head = head + 1
  local json = prefix .. head .. '","seq":' .. head .. ARGV[6 + i]
  redis.call('XADD', stream, head .. '-0', 'j', json)
end
-- Retention: MINID ~, never past what the stored snapshot has folded, so a
-- snapshot can always be rebuilt from the stored one plus the stream.
local minid = math.min(head - tonumber(ARGV[1]) + 1, tonumber(m[4] or '0') + 1)
if minid > 1 then
  redis.call('XTRIM', stream, 'MINID', '~', minid)
end
redis.call('HSET', meta, 'seq', head, 'stream', number)
if ARGV[3] ~= '' then
  redis.call('HSET', meta, 'ended', ARGV[3])
  redis.call('PEXPIRE', meta, ARGV[2])
  redis.call('PEXPIRE', stream, ARGV[2])
end
local first = redis.call('XRANGE', stream, '-', '+', 'COUNT', 1)[1][1]
first = tonumber(string.sub(first, 1, string.find(first, '-') - 1))
redis.call('PUBLISH', ARGV[4], head .. ' ' .. first .. ' ' .. new .. ' ' .. ARGV[5])
return {'ok', number, start, head, first, new}
