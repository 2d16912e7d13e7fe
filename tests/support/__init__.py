"""Helpers shared by test tiers (importable because pytest puts tests/ on sys.path)."""
