import sys

from .cli import main

# Guarded: the survey command's Dask worker processes are spawned, and a spawned process imports
# the main module again (as ``__mp_main__``); unguarded, each worker would rerun the command.
if __name__ == "__main__":
    sys.exit(main())
