"""Text messages: the outbox, the gateways and their dispatch."""
