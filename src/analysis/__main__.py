"""``python -m analysis``: the ``sales-analysis`` command."""
from .cli import main

if __name__ == "__main__":
    main()
