"""`python -m pyoci`: the same entry point as the `pyoci` console script."""
from pyoci.cli import run_and_exit

run_and_exit()
