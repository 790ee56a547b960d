"""Test doubles shared by tests and bench; never packaged or shipped."""
