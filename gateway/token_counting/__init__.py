"""Token counts for `/v1/messages/count_tokens` and `/utils/token_counter`: the provider's own
counting API where it has one, else the model's tiktoken encoding, else a labelled estimate."""
