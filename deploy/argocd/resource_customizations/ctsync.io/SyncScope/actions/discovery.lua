-- Offer whichever of suspend/resume changes something. ctsync ignores restart-job and
-- allow-deletions while suspended and would act on them on resume, so they wait until then.
local actions = {}
local suspended = obj.spec.suspend == true
actions["suspend"] = {["disabled"] = suspended}
actions["resume"] = {["disabled"] = not suspended}
actions["restart-job"] = {["disabled"] = suspended}
actions["allow-deletions"] = {["disabled"] = suspended}
return actions
