"""The embedded local cloud: needs no credentials, so a fresh machine runs the whole product."""
