"""Property-service firms and their credit."""
