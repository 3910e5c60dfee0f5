from dalserver.cli import main

raise SystemExit(main())
