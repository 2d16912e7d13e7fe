"""Cross-tenant access policy: partners, the default policy and partner identity synchronization."""
