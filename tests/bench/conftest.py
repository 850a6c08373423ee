import numpy as np
import pytest

from uvc_bench.metrics.tiny import save_tiny_weights


@pytest.fixture(scope="session")
def tiny_weights(tmp_path_factory):
    """A weights folder in the documented layout holding TINY random DINO / CLIP / LAION-head models."""
    return save_tiny_weights(tmp_path_factory.mktemp("weights"))


@pytest.fixture(scope="session")
def texture():
    import cv2

    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (120, 200, 3), dtype=np.uint8)
    return cv2.GaussianBlur(img, (0, 0), 1.5)


@pytest.fixture(scope="session")
def reference_weights(tmp_path_factory):
    """Every dimension's reference weights in the documented layout: tiny random DINO / CLIP / LAION models and
    full-size random RAFT / AMT-S / MUSIQ checkpoints in their official containers."""
    from uvc_bench.metrics.tiny import save_random_reference_nets

    root = save_tiny_weights(tmp_path_factory.mktemp("reference_weights"))
    return save_random_reference_nets(root)
