"""Budgets and rpm/tpm/parallel limits for keys, teams, users and end users, enforced by a
`RequestHook` from in-memory (or Redis) counters: no database call on the request path."""
