"""Template tags of the process pages."""
