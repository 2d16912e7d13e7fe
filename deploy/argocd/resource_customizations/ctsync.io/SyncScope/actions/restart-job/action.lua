-- ctsync restarts the job once per new annotation value (it keeps the last one it handled), so every
-- request carries the time it was made, the way Argo CD's own restart actions stamp restartedAt.
local os = require("os")
if obj.metadata.annotations == nil then
  obj.metadata.annotations = {}
end
obj.metadata.annotations["ctsync.io/restart-job"] = os.date("!%Y-%m-%dT%H:%M:%SZ")
return obj
