-- Argo CD health of a ctsync.io AttributeMapping, read from the kstatus conditions ctsync writes.
-- AttributeMapping has no spec.suspend (suspending its SyncScope pauses the job), so it is never Suspended.
-- Argo CD runs this without its open libraries: base and table only, no string or math.
local hs = {}
local generation = obj.metadata.generation

-- Ready=False reasons ctsync does not retry until the spec changes: someone has to act.
local TERMINAL = {
  InvalidSpec = true,
  CredentialsInvalid = true,
  AuthenticationFailed = true,
  PermissionMissing = true,
  ScopeShrinkBlocked = true,
  MappingConflict = true,
  AmbiguousReference = true,
  NotOwned = true,
}

local function describe(c)
  if c.message == nil or c.message == "" then
    return c.reason
  end
  return c.reason .. ": " .. c.message
end

-- A condition written for an older generation says nothing about the current spec.
local function condition(wanted)
  if obj.status == nil or obj.status.conditions == nil then
    return nil
  end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == wanted and (c.observedGeneration == nil or c.observedGeneration == generation) then
      return c
    end
  end
  return nil
end

if obj.metadata.deletionTimestamp ~= nil then
  hs.status = "Progressing"
  hs.message = "Pending deletion"
  if obj.metadata.finalizers ~= nil and #obj.metadata.finalizers > 0 then
    hs.message = hs.message .. "; waiting for finalizers: " .. table.concat(obj.metadata.finalizers, ", ")
  end
  return hs
end

local observed = obj.status ~= nil and obj.status.observedGeneration == generation

-- Only a status for the current generation can be Degraded: after a spec change ctsync retries.
if observed then
  local stalled = condition("Stalled")
  if stalled ~= nil and stalled.status == "True" then
    hs.status = "Degraded"
    hs.message = describe(stalled)
    return hs
  end
  local ready = condition("Ready")
  if ready ~= nil and ready.status == "False" and TERMINAL[ready.reason] then
    hs.status = "Degraded"
    hs.message = describe(ready)
    return hs
  end
end

if obj.status == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for ctsync to report status"
  return hs
end

-- ctsync moves status.observedGeneration only once it has processed the whole spec; until then
-- Reconciling (written for the current generation) says what it is waiting for.
local reconciling = condition("Reconciling")
if reconciling ~= nil and reconciling.status == "True" then
  hs.status = "Progressing"
  hs.message = "Reconciling: " .. describe(reconciling)
  return hs
end

if not observed then
  hs.status = "Progressing"
  hs.message = "Waiting for ctsync to observe generation " .. tostring(generation)
  if obj.status.observedGeneration ~= nil then
    hs.message = hs.message .. " (status is for generation " .. tostring(obj.status.observedGeneration) .. ")"
  end
  return hs
end

local ready = condition("Ready")
if ready == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for ctsync to report Ready for generation " .. tostring(generation)
  return hs
end
if ready.status == "True" then
  hs.status = "Healthy"
  hs.message = describe(ready)
  return hs
end
hs.status = "Progressing"
hs.message = "Not ready: " .. describe(ready)
return hs
