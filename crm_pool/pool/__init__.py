"""The public pool (公海): intake and dedupe, ownership (claim, release, assign, lock), collaborators,
follow-up, recycling, adoption of existing parties, merges."""
