"""Shared plumbing for Podlens' packages: where data lives, atomic writes, errors."""
