"""toolrelay: the command line, `toolrelay up`, and test/bench tooling (the fake upstream)."""
