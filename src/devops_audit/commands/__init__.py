"""One module per CLI command: `add_arguments(parser)`, `run(args) -> int` (its help line is in `cli.COMMANDS`)."""
