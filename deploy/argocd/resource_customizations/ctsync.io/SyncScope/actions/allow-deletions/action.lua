-- Releases the deletions the job's accidental-deletion threshold holds back. ctsync acts once per
-- new annotation value (it keeps the last one it handled), so every request carries its own time.
local os = require("os")
if obj.metadata.annotations == nil then
  obj.metadata.annotations = {}
end
obj.metadata.annotations["ctsync.io/allow-deletions"] = os.date("!%Y-%m-%dT%H:%M:%SZ")
return obj
