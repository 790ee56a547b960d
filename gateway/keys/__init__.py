"""Virtual keys: the stored model, hashing, the in-memory cache and the authenticator."""
