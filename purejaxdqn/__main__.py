from purejaxdqn.tools.cli import main

raise SystemExit(main())
