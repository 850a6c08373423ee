"""Synthetic inputs for tests and benchmarks: videos with known hard cuts (synth) and a broken corpus (broken)."""
