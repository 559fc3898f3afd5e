"""Change protection: branch protection, rulesets, CODEOWNERS, the forge API."""
