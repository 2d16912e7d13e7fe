"""Audit logs: provisioning logs written by the provisioning engine."""
