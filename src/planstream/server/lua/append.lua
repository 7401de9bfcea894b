-- Append a batch to one plan's stream, atomically (protocol §6; issue 11 item 1).
-- KEYS[1] the plan's metadata hash, KEYS[2] its stream, KEYS[3] its
-- idempotency keys (key -> 'digest first count'), KEYS[4] their order (a
-- list, oldest first): one hash tag, so one slot.
-- ARGV[1] retention, ARGV[2] plan_ttl in ms, ARGV[3] terminal status the batch
-- ends with ('' if none), ARGV[4] notification channel, ARGV[5] plan id,
-- ARGV[6] the events' JSON up to the event id's stream part, ARGV[7] the
-- Idempotency-Key ('' if none), ARGV[8] its body digest, ARGV[9] keys kept per
-- plan, ARGV[10..] each event's JSON after its seq. Returns {'closed', status},
-- {'replay', stream, first seq, count}, {'reused'} or
-- {'ok', stream, first seq of the batch, head, first retained, new stream,
-- seq of the stored snapshot}.
local meta, stream, idem, order = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local m = redis.call('HMGET', meta, 'seq', 'stream', 'ended', 'snapseq')
local key = ARGV[7]
if key ~= '' and m[2] then
  -- protocol §6: a key the plan holds appends nothing (before the 409 check,
  -- so a retried final publish is a replay)
  local held = redis.call('HGET', idem, key)
  if held then
    local digest, first, n = string.match(held, '^(%S+) (%d+) (%d+)$')
    if digest ~= ARGV[8] then
      return {'reused'}
    end
    return {'replay', m[2], first, n}
  end
end
if m[3] then
  return {'closed', m[3]}
end
local count = #ARGV - 9
local head = tonumber(m[1] or '0')
local number = m[2]
if count == 0 then
  return {'ok', number or '', head + 1, head, 0, 0, 0}
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
  local json = prefix .. head .. '","seq":' .. head .. ARGV[9 + i]
  redis.call('XADD', stream, head .. '-0', 'j', json)
end
-- Retention: MINID ~, never past what the stored snapshot has folded, so a
-- snapshot can always be rebuilt from the stored one plus the stream.
local minid = math.min(head - tonumber(ARGV[1]) + 1, tonumber(m[4] or '0') + 1)
if minid > 1 then
  redis.call('XTRIM', stream, 'MINID', '~', minid)
end
redis.call('HSET', meta, 'seq', head, 'stream', number)
if key ~= '' then
  redis.call('HSET', idem, key, ARGV[8] .. ' ' .. start .. ' ' .. count)
  if redis.call('RPUSH', order, key) > tonumber(ARGV[9]) then
    redis.call('HDEL', idem, redis.call('LPOP', order))
  end
end
if ARGV[3] ~= '' then
  redis.call('HSET', meta, 'ended', ARGV[3])
  for _, k in ipairs(KEYS) do
    redis.call('PEXPIRE', k, ARGV[2])
  end
end
local first = redis.call('XRANGE', stream, '-', '+', 'COUNT', 1)[1][1]
first = tonumber(string.sub(first, 1, string.find(first, '-') - 1))
redis.call('PUBLISH', ARGV[4], head .. ' ' .. first .. ' ' .. new .. ' ' .. ARGV[5])
return {'ok', number, start, head, first, new, tonumber(m[4] or '0')}
