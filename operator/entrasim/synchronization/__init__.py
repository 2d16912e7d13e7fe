"""Synchronization: secrets, jobs, schema, the expression language and the provisioning engine."""
