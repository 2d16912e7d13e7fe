"""Users, groups, group membership, delta queries and the recycle bin (directory/deletedItems)."""
