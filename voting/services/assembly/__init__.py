"""The owners' assembly: meetings and their motions, casting ballots into the signed log,
paper entry, outcomes, certification, audit and the exported bundle."""
