"""OpenAI's Responses API as a front door: Responses shapes in, chat shapes to the router (or
the client's own body to an `openai/`/`azure/` deployment), Responses objects and stream
events back out, with responses stored for `previous_response_id`."""
