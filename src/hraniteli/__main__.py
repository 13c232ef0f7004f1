"""`python -m hraniteli` runs the CLI."""

from hraniteli.cli import main

main()
