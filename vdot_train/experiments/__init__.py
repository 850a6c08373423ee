"""Small, CPU-sized experiments on the VDOT losses (docs/experiments.md)."""
