"""The operator CLI: `toolrelay status|models|keys|spend|chat|tools|backup|restore` over the
gateway's and the middleware's HTTP APIs (backup and restore talk to the database)."""
