"""Security evidence: scanner reports, committed secrets, the security policy."""
