"""Tests of the embedding classes, the core /embeddings client code and the server route."""
