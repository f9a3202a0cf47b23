"""`python -m expacti_cli.broker`: run the broker in the foreground (clients start it this way)."""

import sys

from expacti_cli.broker.process import main

if __name__ == "__main__":
    sys.exit(main())
