"""VDOT losses: DMD, OTD (with its log-domain Sinkhorn), GAN and the fake-score denoising loss (docs/vdot_math.md)."""
