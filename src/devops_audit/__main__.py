from devops_audit.cli import main

raise SystemExit(main())
