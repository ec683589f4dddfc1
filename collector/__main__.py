from collector._cli.main import main

raise SystemExit(main())
