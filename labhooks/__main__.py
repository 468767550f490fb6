import sys

from labhooks.cli import main

sys.exit(main())
