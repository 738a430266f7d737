"""The Lua script every state change of the Redis store runs in, so each one is atomic in Redis.

One script, dispatched on an operation name: ``get``, ``find``, ``offer``, ``commit``, ``release``,
``decline``, ``unhold``, ``allocate``, ``reap``, ``role``.
``ARGV`` = key prefix, operation, kind (``v4``/``na``/``pd``), now (epoch seconds), then the
operation's JSON argument. The key layout is described in ``docs/stores/redis.md``:

* ``<prefix><address>`` (``<prefix><address>/<len>`` for a delegated prefix): the lease hash a
  Redis user reads (``mac``, ``hostname``, ``state``, ``expires`` ...), only while the lease is
  bound or declined (an offer has none); its TTL is the remaining lease time.
* ``<prefix>dhcpbridge:rec:<kind>``: address -> the record as JSON, in every state (also the
  expired and released history a returning client gets its address back from, until purged).
* ``...:exp:<kind>`` (active records by expiry), ``...:old:<kind>`` (inactive records by the time
  they ended, for the purge), ``...:cli:<kind>:<client hex>`` (a client's addresses, most recent
  last), ``...:used:<kind>:<range>`` (a bitmap per pool range: bit i set = member i is taken),
  ``...:counts`` (records per kind and state, but offers), ``...:reaped:<kind>`` (leases expired by an
  allocation, for the next reap), ``...:role:<name>`` (who holds a role such as the reaper).

Every change to a state with an event (bound, released, declined, expired) is published on the
channel ``...:changes`` as ``<server> <record JSON>`` (``redis_watch``: other servers' event buses),
when someone but the calling server's own listener (subscribed to ``...:changes:<server>`` as
well) listens there.

A range's bitmap needs no creation: a missing key (or bits past its end) reads as all free, so the
first allocation in a /16 costs what any other does. A record whose bit an allocation set
remembers it (``_free``: ``bitmap|position`` items) and clears it the moment it stops being
active; an address found taken while searching (its bit clear, say a lease given by ``offer``)
gets its bit set and remembered the same way, so the search skips it from then on.
"""

from __future__ import annotations

import hashlib

_BODY = r"""
-- set by each call (Redis runs one call at a time): its prefix, operation, kind and time
local P, op, kind, now, nowtext, arg, I, REC, EXP, OLD
local LAST, LAST_RAW -- the record the last put stored, and its JSON (not encoded twice)
local OWNER -- the calling server (ARGV[6]), named in what changes publishes
local EVENTS = {bound = true, released = true, declined = true, expired = true}
local ACTIVE = {offered = true, bound = true, declined = true}
local VIEW = {bound = true, declined = true} -- the states with a lease hash (an offer has none)
local REAP_LIMIT = 2000

local function encode(rec)
  if rec == nil then return false end
  if rec == LAST then return LAST_RAW end
  return cjson.encode(rec)
end

local function load(addr)
  local raw = redis.call('HGET', REC, addr)
  if not raw then return nil end
  return cjson.decode(raw)
end

local function free_for(cur, client)
  if cur.client == client and cur.state ~= 'declined' then return true end
  if cur.state == 'released' or cur.state == 'expired' then return true end
  return tonumber(cur.expires) <= now
end

local function view_key(rec)
  if rec.kind == 'pd' then return P .. rec.address .. '/' .. rec['prefix-len'] end
  return P .. rec.address
end

-- the bitmap bits a record set ({key, position}); a record written before the bitmaps may still
-- name a sorted set (...:free:...) of the old layout: ignored (never SETBIT on it)
local function pointers(rec)
  local out = {}
  if rec._free then
    local used = I .. 'used:'
    for item in string.gmatch(rec._free, '[^;]+') do
      local z, i = string.match(item, '^(.*)|(%d+)$')
      if z and string.sub(z, 1, #used) == used then out[#out + 1] = {z, i} end
    end
  end
  return out
end

local function add_pointer(rec, z, idx)
  local item = z .. '|' .. idx
  if rec._free then
    for existing in string.gmatch(rec._free, '[^;]+') do
      if existing == item then return end
    end
    rec._free = rec._free .. ';' .. item
  else
    rec._free = item
  end
end

-- offers are not counted: the Python side reads them as the active records less the others
local function count(state, delta)
  if state == 'offered' then return end
  redis.call('HINCRBY', I .. 'counts', kind .. '_' .. state, delta)
end

local function client_key(client)
  return I .. 'cli:' .. kind .. ':' .. client
end

local function write_view(rec, cur)
  local key = view_key(rec)
  local ms = math.floor((tonumber(rec.expires) - now) * 1000)
  if not VIEW[rec.state] or ms <= 0 then
    if cur and VIEW[cur.state] then redis.call('DEL', key) end
    return
  end
  local args = {}
  for k, v in pairs(rec) do
    if string.sub(k, 1, 1) ~= '_' then
      args[#args + 1] = k
      args[#args + 1] = v
    end
  end
  redis.call('HSET', key, unpack(args))
  redis.call('PEXPIRE', key, ms)
end

local function set_free(rec, free)
  local bit = 1
  if free then bit = 0 end
  for _, p in ipairs(pointers(rec)) do redis.call('SETBIT', p[1], p[2], bit) end
end

-- is the address with hex form h a member of range r = {first hex, last hex, k4, kb}
-- (members are first + i * 2^(4 * k4 + kb): the low bits equal those of first)
local function in_range(h, r)
  if h < r[1] or h > r[2] then return false end
  local n = #h
  local k4, kb = r[3], r[4]
  if k4 > 0 and string.sub(h, n - k4 + 1) ~= string.sub(r[1], n - k4 + 1) then return false end
  if kb > 0 then
    local a = tonumber(string.sub(h, n - k4, n - k4), 16) % (2 ^ kb)
    local b = tonumber(string.sub(r[1], n - k4, n - k4), 16) % (2 ^ kb)
    if a ~= b then return false end
  end
  return true
end

-- whether a subscriber of the changes other than the calling server's own listener is there
-- (each server's listener also subscribes, in the same command, to changes:<its id>): a lone
-- server publishes nothing, so it does not read every change of its own back
local function someone_listens()
  local n = redis.call('PUBSUB', 'NUMSUB', I .. 'changes', I .. 'changes:' .. OWNER)
  return n[2] > n[4]
end

-- store rec as the record of its address (replacing cur, the record there before, if any)
local function put(rec, cur)
  local addr = rec.address
  local was_active = cur and ACTIVE[cur.state]
  if cur then
    for _, p in ipairs(pointers(cur)) do add_pointer(rec, p[1], p[2]) end
    if cur.client ~= rec.client then redis.call('ZREM', client_key(cur.client), addr) end
    if cur.state ~= rec.state then count(cur.state, -1) end
    local old_view = view_key(cur)
    if VIEW[cur.state] and old_view ~= view_key(rec) then redis.call('DEL', old_view) end
  end
  if rec.state ~= 'offered' then rec._reoffer = nil end
  if ACTIVE[rec.state] then
    redis.call('ZADD', EXP, rec.expires, addr)
    if cur and not was_active then redis.call('ZREM', OLD, addr) end
    if rec._free ~= (cur and cur._free) or not was_active then set_free(rec, false) end
  else
    if was_active then redis.call('ZREM', EXP, addr) end
    redis.call('ZADD', OLD, rec.expires, addr)
    if was_active or not cur then set_free(rec, true) end
  end
  -- the client's addresses by the time of their last change (a call without a time, unhold,
  -- keeps the place the record had)
  local added
  if now > 0 then
    added = redis.call('ZADD', client_key(rec.client), nowtext, addr)
  else
    added = redis.call('ZADD', client_key(rec.client), 'NX', 0, addr)
  end
  if added == 1 and rec.duid and rec.duid ~= '' then
    redis.call('SADD', I .. 'duid:' .. rec.duid, kind .. ' ' .. rec.client) -- a new IA of the DUID
  end
  if not (cur and cur.state == rec.state) then count(rec.state, 1) end
  LAST, LAST_RAW = rec, cjson.encode(rec)
  redis.call('HSET', REC, addr, LAST_RAW)
  write_view(rec, cur)
  local told = EVENTS[rec.state] and (rec.state ~= 'expired' or (cur and cur.state == 'bound'))
  if told and someone_listens() then redis.call('PUBLISH', I .. 'changes', OWNER .. ' ' .. LAST_RAW) end
  return rec
end

local function delete(cur)
  local addr = cur.address
  redis.call('HDEL', REC, addr)
  redis.call('ZREM', EXP, addr)
  redis.call('ZREM', OLD, addr)
  redis.call('ZREM', client_key(cur.client), addr)
  if cur.duid and cur.duid ~= '' and redis.call('EXISTS', client_key(cur.client)) == 0 then
    redis.call('SREM', I .. 'duid:' .. cur.duid, kind .. ' ' .. cur.client)
  end
  count(cur.state, -1)
  set_free(cur, true)
  if VIEW[cur.state] then redis.call('DEL', view_key(cur)) end
end

-- how many addresses and prefixes the IAs in the DUID set d hold now (bound or offered, not
-- expired): max-leases-per-duid, counted inside the claim so that no two servers pass it together
local function duid_held(d)
  local n = 0
  for _, m in ipairs(redis.call('SMEMBERS', I .. 'duid:' .. d)) do
    local k, client = string.match(m, '^(%a+) (%x+)$')
    if k then
      local mark = '"client":"' .. client .. '"'
      for _, addr in ipairs(redis.call('ZRANGE', I .. 'cli:' .. k .. ':' .. client, 0, -1)) do
        local raw = redis.call('HGET', I .. 'rec:' .. k, addr)
        if raw and string.find(raw, mark, 1, true) then
          local r = cjson.decode(raw)
          if (r.state == 'bound' or r.state == 'offered') and tonumber(r.expires) > now then n = n + 1 end
        end
      end
    end
  end
  return n
end

-- whether rec may become a new lease of its IA under cap (0: no cap): the IA holds one already
-- (it keeps it), or its DUID holds fewer than cap
local function within_cap(rec, cap)
  if cap == 0 or not rec.duid or rec.duid == '' then return true end
  for _, addr in ipairs(redis.call('ZRANGE', client_key(rec.client), 0, -1)) do
    local cur = load(addr)
    if cur and cur.client == rec.client and (cur.state == 'bound' or cur.state == 'offered')
        and tonumber(cur.expires) > now then
      return true
    end
  end
  return duid_held(rec.duid) < cap
end

local function hold(rec, cur)
  if cur and cur.client == rec.client and cur.state == 'bound' and tonumber(cur.expires) > now then
    return cur
  end
  if cur and cur.client == rec.client and (cur.state ~= 'offered' or cur._reoffer) then
    rec._reoffer = '1'
  end
  rec.state = 'offered'
  return put(rec, cur)
end

-- an offer lapsed or was given up: a never-bound offer leaves nothing behind, one made to a
-- returning client on its old address leaves an expired record (its history)
local function offer_ended(cur)
  if cur._reoffer then
    local rec = cjson.decode(cjson.encode(cur))
    rec.state = 'expired'
    rec.expires = rec.starts
    put(rec, cur)
  else
    delete(cur)
  end
end

local function copy(t)
  return cjson.decode(cjson.encode(t))
end

local function reap(early, before)
  local out = {}
  local more = 0
  local due = redis.call('ZRANGEBYSCORE', EXP, '-inf', nowtext, 'LIMIT', 0, REAP_LIMIT)
  if #due == REAP_LIMIT then more = 1 end
  for _, addr in ipairs(due) do
    local cur = load(addr)
    if cur and ACTIVE[cur.state] and tonumber(cur.expires) <= now then
      if cur.state == 'offered' then
        offer_ended(cur)
      else
        local rec = copy(cur)
        rec.state = 'expired'
        put(rec, cur)
        if cur.state == 'bound' then out[#out + 1] = encode(rec) end
      end
    else
      redis.call('ZREM', EXP, addr)
    end
  end
  if early then
    for _, item in ipairs(out) do redis.call('RPUSH', I .. 'reaped:' .. kind, item) end
    return {}
  end
  local earlier = redis.call('LRANGE', I .. 'reaped:' .. kind, 0, -1)
  redis.call('DEL', I .. 'reaped:' .. kind)
  for _, item in ipairs(out) do earlier[#earlier + 1] = item end
  if before then
    local old = redis.call('ZRANGEBYSCORE', OLD, '-inf', '(' .. before, 'LIMIT', 0, REAP_LIMIT)
    if #old == REAP_LIMIT then more = 1 end
    for _, addr in ipairs(old) do
      local cur = load(addr)
      if cur and not ACTIVE[cur.state] then delete(cur) else redis.call('ZREM', OLD, addr) end
    end
  end
  table.insert(earlier, 1, tostring(more))
  return earlier
end

local function in_any(h, ranges)
  for _, r in ipairs(ranges) do
    if in_range(h, r) then return true end
  end
  return false
end

local function split(member)
  local h, addr = string.match(member, '^([^|]*)|(.*)$')
  return h, addr
end

-- member idx of a range whose first address has the hex form first and members 2^bits apart:
-- its hex form (same width) and its text (dotted IPv4; RFC 5952 IPv6, as the Python side writes)
local function nth(first, bits, idx)
  local limbs = {}
  for i = 1, #first, 4 do limbs[#limbs + 1] = tonumber(string.sub(first, i, i + 3), 16) end
  local at = #limbs - math.floor(bits / 16)
  local carry = idx * 2 ^ (bits % 16)
  while carry > 0 and at >= 1 do
    local sum = limbs[at] + carry
    limbs[at] = sum % 65536
    carry = math.floor(sum / 65536)
    at = at - 1
  end
  local hex = {}
  for i, v in ipairs(limbs) do hex[i] = string.format('%04x', v) end
  if #limbs == 2 then
    local a, b = limbs[1], limbs[2]
    return table.concat(hex), string.format('%d.%d.%d.%d', math.floor(a / 256), a % 256, math.floor(b / 256), b % 256)
  end
  local best, best_len, run, run_len = 0, 0, 0, 0
  for i, v in ipairs(limbs) do
    if v == 0 then
      if run_len == 0 then run = i end
      run_len = run_len + 1
      if run_len > best_len then best, best_len = run, run_len end
    else
      run_len = 0
    end
  end
  local groups = {}
  for i, v in ipairs(limbs) do groups[i] = string.format('%x', v) end
  if best_len < 2 then return table.concat(hex), table.concat(groups, ':') end
  local left = table.concat(groups, ':', 1, best - 1)
  local right = table.concat(groups, ':', best + best_len, 8)
  return table.concat(hex), left .. '::' .. right
end

-- the first member free for rec.client at positions lo <= i < hi of a range's bitmap z (a clear
-- bit; a missing key or the bits past its end read as clear): held for the client
local function scan(z, first, bits, lo, hi, rec, excl)
  while lo < hi do
    -- the first clear bit from lo's byte on (bits past the end read as clear); -1: lo's byte is
    -- past the end; 0 below lo's byte: no such key
    local byte = math.floor(lo / 8)
    local idx = redis.call('BITPOS', z, 0, byte)
    if idx < 0 or idx < byte * 8 then
      idx = lo
    elseif idx < lo then -- a clear bit before lo in its byte: search bit by bit
      local nbits = redis.call('STRLEN', z) * 8
      idx = lo
      if lo < nbits then
        idx = redis.call('BITPOS', z, 0, lo, math.min(hi, nbits) - 1, 'BIT')
        if idx < 0 then idx = nbits end
      end
    end
    if idx >= hi then return nil end
    local h, addr = nth(first, bits, idx)
    lo = idx + 1
    if not excl[addr] then
      local cur = load(addr)
      if cur == nil or free_for(cur, rec.client) then
        rec.address = addr
        rec._hex = h
        add_pointer(rec, z, idx)
        return hold(rec, cur)
      end
      -- taken, its bit clear (leased by address): set it; its record clears it when free
      add_pointer(cur, z, idx)
      redis.call('HSET', REC, addr, cjson.encode(cur))
      redis.call('SETBIT', z, idx, 1)
    end
  end
  return nil
end

local function try_windows(a, rec, excl)
  for _, w in ipairs(a.windows) do
    if w[1] == 'b' then
      local got = scan(w[2], w[3], w[4], w[5], w[6], rec, excl)
      if got then return got end
    else
      for _, member in ipairs(w[2]) do
        local h, addr = split(member)
        if not excl[addr] then
          local cur = load(addr)
          if cur == nil or free_for(cur, rec.client) then
            rec.address = addr
            rec._hex = h
            return hold(rec, cur)
          end
        end
      end
    end
  end
  return nil
end

local function allocate(a)
  local rec = a.rec
  local client = rec.client
  local excl = {}
  for _, x in ipairs(a.exclude) do excl[x] = true end
  -- the client's own most recent address in the ranges, if it is still free for it
  local own = redis.call('ZREVRANGE', client_key(client), 0, -1)
  for _, addr in ipairs(own) do
    local cur = load(addr)
    if cur and cur.client == client and not excl[addr] and in_any(cur._hex, a.ranges) then
      if free_for(cur, client) then
        rec.address = addr
        rec._hex = cur._hex
        return {'ok', encode(hold(rec, cur))}
      end
      break
    end
  end
  if not within_cap(rec, tonumber(a.cap or 0)) then return {'none'} end
  -- what it asked for
  if a.prefer ~= '' then
    local h, addr = split(a.prefer)
    local cur = load(addr)
    if cur == nil or free_for(cur, client) then
      rec.address = addr
      rec._hex = h
      return {'ok', encode(hold(rec, cur))}
    end
  end
  local got = try_windows(a, rec, excl)
  if got == nil and #redis.call('ZRANGEBYSCORE', EXP, '-inf', nowtext, 'LIMIT', 0, 1) > 0 then
    -- leases expired since the last reaping pass still look taken: reap now and retry
    reap(true, nil)
    got = try_windows(a, rec, excl)
  end
  if got == nil then return {'none'} end
  return {'ok', encode(got)}
end

-- the records of client, most recent first, appended to out (but the one of address skip)
local function find(client, out, skip)
  local mark = '"client":"' .. client .. '"'
  for _, addr in ipairs(redis.call('ZREVRANGE', client_key(client), 0, -1)) do
    if addr ~= skip then
      local raw = redis.call('HGET', REC, addr)
      if raw and string.find(raw, mark, 1, true) then out[#out + 1] = raw end
    end
  end
  return out
end


local function main(keys, ARGV)
  P, op, kind, nowtext, arg, OWNER = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6] or ''
  now = tonumber(nowtext)
  LAST, LAST_RAW = nil, nil
  I = P .. 'dhcpbridge:'
  REC = I .. 'rec:' .. kind
  EXP = I .. 'exp:' .. kind
  OLD = I .. 'old:' .. kind
  if op == 'get' then
    return redis.call('HGET', REC, arg)
  elseif op == 'find' then
    return find(arg, {}, nil)
  elseif op == 'offer' then
    local rec = cjson.decode(arg)
    local cur = load(rec.address)
    if cur and not free_for(cur, rec.client) then return false end
    return encode(hold(rec, cur))
  elseif op == 'commit' then
    local rec = cjson.decode(arg)
    local cap = tonumber(rec._cap or 0)
    rec._cap = nil
    local cur = load(rec.address)
    if cur and not free_for(cur, rec.client) then return {} end
    if not within_cap(rec, cap) then return {} end
    if cur and cur.client == rec.client and cur.state == 'bound' and tonumber(cur.expires) > now then
      if tonumber(cur.starts) < tonumber(rec.starts) then rec.starts = cur.starts end
    end
    rec.state = 'bound'
    -- the record, then all of the client's (the engine looks for its other bindings next)
    local raw = encode(put(rec, cur))
    return find(rec.client, {raw}, rec.address)
  elseif op == 'release' then
    local a = cjson.decode(arg)
    local cur = load(a.address)
    if cur == nil or cur.client ~= a.client or (cur.state ~= 'bound' and cur.state ~= 'offered') then
      return false
    end
    local rec = copy(cur)
    rec.state = 'released'
    rec.expires = nowtext
    return encode(put(rec, cur))
  elseif op == 'decline' then
    local a = cjson.decode(arg)
    local cur = load(a.address)
    if cur == nil or cur.client ~= a.client or cur.state ~= 'bound' or tonumber(cur.expires) <= now then
      return false
    end
    local rec = copy(cur)
    rec.state = 'declined'
    rec.starts = nowtext
    rec.expires = a['until']
    rec.hostname = ''
    return encode(put(rec, cur))
  elseif op == 'unhold' then
    local a = cjson.decode(arg)
    local cur = load(a.address)
    if cur and cur.client == a.client and cur.state == 'offered' then offer_ended(cur) end
    return false
  elseif op == 'allocate' then
    return allocate(cjson.decode(arg))
  elseif op == 'reap' then
    local a = cjson.decode(arg)
    return reap(false, a.before)
  elseif op == 'role' then
    local a = cjson.decode(arg)
    local key = I .. 'role:' .. a.role
    local holder = redis.call('GET', key)
    if holder == false or holder == a.owner then
      redis.call('SET', key, a.owner, 'PX', a.ms)
      return 1
    end
    return 0
  end
  return redis.error_reply('dhcpbridge: unknown operation ' .. op)
end
"""

#: the library's name and its one function's: the code's hash, so servers of different versions
#: sharing one Redis each call their own
NAME = "dhcpbridge_" + hashlib.sha1(_BODY.encode()).hexdigest()[:16]
LIBRARY = f"#!lua name={NAME}\n{_BODY}\nredis.register_function{{function_name='{NAME}', callback=main}}\n"
