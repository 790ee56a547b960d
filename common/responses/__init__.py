"""OpenAI's Responses API over chat: a Responses request as a chat request
(`request`), a chat answer as a Response (`response`) and chat stream chunks as Responses stream
events (`stream`). The gateway's translated `/v1/responses` and the middleware's tool loop use
the same translation."""
