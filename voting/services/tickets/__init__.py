"""Repair, complaint, inquiry and suggestion tickets: filing, handling, the sweep, figures."""
