"""``python -m addin`` runs the ``xlcrm`` command line."""

from .cli import main

main()
