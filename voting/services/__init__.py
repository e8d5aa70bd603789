"""Use cases. Each public function owns its transaction: it commits on success
and leaves nothing half-written when it raises."""
