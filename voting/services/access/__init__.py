"""Who is signed in and what they may see: staff accounts and authenticators, owners'
sign-in codes, sessions, scope per audience, and the counters that limit guessing."""
