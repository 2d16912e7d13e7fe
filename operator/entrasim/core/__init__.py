"""Shared machinery of every emulated service: errors, ids, clock, OData, routing."""
