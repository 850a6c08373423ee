"""Native pure-torch re-implementations of the reference metric networks (parameter names match the official checkpoints)."""
