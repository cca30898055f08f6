"""``ganzoo train`` and ``ganzoo sample`` (filled in with the trainer)."""

COMMANDS: list = []
