"""Tests of the native reference networks (uvc_data.nets) against the vendored reference code as an oracle."""
