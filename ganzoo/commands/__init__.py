"""The ``ganzoo`` subcommands, one module per job; torch is imported inside command bodies only."""
