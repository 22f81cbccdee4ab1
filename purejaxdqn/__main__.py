from purejaxdqn.cli import main

raise SystemExit(main())
