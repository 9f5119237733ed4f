import sys

from greedy.cli import main

sys.exit(main())
