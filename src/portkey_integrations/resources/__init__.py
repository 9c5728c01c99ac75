"""Portkey's resource APIs on the clients: prompts, partials, labels, feedback and
embeddings. Each operation is written once for the sync and the async client."""
