"""Test evidence: coverage reports and thresholds, JUnit results."""
