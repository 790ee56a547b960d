"""Cost and spend: the bundled price table, per-request cost, and spend logs written in
batches off the request path (with rollups and retention)."""
