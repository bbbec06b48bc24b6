"""Configuration, logging and the embedded servers: the plumbing the shells share."""
