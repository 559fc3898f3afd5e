from devops_audit.cli import run

run()
