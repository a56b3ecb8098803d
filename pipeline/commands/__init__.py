"""The sub-commands of `pipeline`, one module per area, each `register(subparsers)` with handlers
`(args, settings) -> int`: thin adapters that parse arguments, call a use case (`pipeline.services`)
or a stage's public entry point, and print the result. `pipeline/cli.py` mounts them."""
