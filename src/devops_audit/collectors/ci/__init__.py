"""CI systems: one parser per system into the shared pipeline model."""
