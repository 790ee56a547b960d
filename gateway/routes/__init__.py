"""HTTP routes of the gateway; each module exposes `routes(state)`."""
