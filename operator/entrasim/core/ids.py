"""Object ids. Graph ids are GUIDs; a few (jobs, assignments) are opaque strings built from them."""

from __future__ import annotations

import base64
import re
import uuid

GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def new_guid() -> str:
    return str(uuid.uuid4())


def is_guid(value: object) -> bool:
    return isinstance(value, str) and GUID_RE.match(value) is not None


def opaque_id() -> str:
    """A base64url id such as Graph uses for appRoleAssignments."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes + uuid.uuid4().bytes[:8]).decode().rstrip("=")
