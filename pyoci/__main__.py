"""`python -m pyoci`: the same entry point as the `pyoci` console script."""
import sys

from pyoci.cli import main

sys.exit(main())
