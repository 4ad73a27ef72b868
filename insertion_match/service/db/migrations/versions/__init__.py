"""Revisions, numbered ``0001``, ``0002``...: each names its ``down_revision``."""
