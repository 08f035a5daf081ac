"""Safety gates: a prompt filter run before queueing and an image filter run before posting."""
