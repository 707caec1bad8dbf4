"""Persistence: the sample store (MongoDB or the embedded default), users, tokens, audit."""
