-- Argo CD health of a lambdapolicy.io/LambdaPolicy. It reads the object the way kstatus does
-- (kubernetes-sigs/cli-utils pkg/kstatus, what Flux waits on), so Argo CD and Flux always agree:
--   being deleted                               -> Progressing (kstatus: Terminating)
--   status about an older generation            -> Progressing (InProgress)
--   Stalled=True: a person must act             -> Degraded    (Failed)
--   Reconciling=True: the controller works      -> Progressing (InProgress)
--   Ready=True: checked at this generation      -> Healthy     (Current), or Suspended for spec.suspend
--   Ready=False/Unknown: not yet (e.g. retrying) -> Progressing (InProgress)
-- Drift is not ill health: an Audit policy that finds drift is Ready and Healthy; the message says what the
-- Compliant condition says. The generation is checked first, so health never flaps back to the verdict about the
-- previous spec.
local hs = {}

local function condition(conditions, type)
  if conditions == nil then return nil end
  for _, c in ipairs(conditions) do
    if c.type == type then return c end
  end
  return nil
end

local function describe(c, fallback)
  if c ~= nil and c.message ~= nil and c.message ~= "" then
    if c.reason ~= nil and c.reason ~= "" then return c.reason .. ": " .. c.message end
    return c.message
  end
  if c ~= nil and c.reason ~= nil and c.reason ~= "" then return c.reason end
  return fallback
end

if obj.metadata ~= nil and obj.metadata.deletionTimestamp ~= nil then
  hs.status = "Progressing"
  hs.message = "Terminating: the controller is removing what the policy owns"
  return hs
end

local status = obj.status
if status == nil or status.conditions == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the controller to report status"
  return hs
end

local generation = obj.metadata and obj.metadata.generation
if generation ~= nil and status.observedGeneration ~= nil and status.observedGeneration ~= generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the controller to observe generation " .. tostring(generation)
  return hs
end

-- In list order, as kstatus reads them: the first of Reconciling/Stalled that is True decides.
for _, c in ipairs(status.conditions) do
  if c.type == "Stalled" and c.status == "True" then
    hs.status = "Degraded"
    hs.message = describe(c, "Stalled")
    return hs
  end
  if c.type == "Reconciling" and c.status == "True" then
    hs.status = "Progressing"
    hs.message = describe(c, "Reconciling")
    return hs
  end
end

local ready = condition(status.conditions, "Ready")
if ready ~= nil and ready.status ~= "True" then
  hs.status = "Progressing"
  hs.message = describe(ready, "Waiting for the policy to be checked")
  return hs
end

if obj.spec ~= nil and obj.spec.suspend == true then
  hs.status = "Suspended"
  hs.message = describe(ready, "spec.suspend is true")
  return hs
end

local compliant = condition(status.conditions, "Compliant")
hs.status = "Healthy"
hs.message = describe(compliant, describe(ready, "Checked"))
return hs
