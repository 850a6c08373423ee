"""Training at the paper's scale: networks built on the meta device, sharded with FSDP2 before any weight exists,
materialised per rank straight from checkpoint files by key, sharded checkpoints with torch.distributed.checkpoint,
rank-sharded data and a memory planner. Model code stays single-device; everything here is applied from outside."""
