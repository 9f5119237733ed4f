import sys

from greedy.pipeline.cli import main

sys.exit(main())
