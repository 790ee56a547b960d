"""Helpers shared by the test suites: processes on loopback, free ports, required components."""
