-- Offer whichever of suspend/resume changes something.
local actions = {}
local suspended = obj.spec.suspend == true
actions["suspend"] = {["disabled"] = suspended}
actions["resume"] = {["disabled"] = not suspended}
return actions
