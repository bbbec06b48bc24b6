"""`complaints`: the staff CLI's entry point (the CLI itself lives in `cli/`)."""

from cli.main import cli, main

__all__ = ["cli", "main"]

if __name__ == "__main__":
    cli()
