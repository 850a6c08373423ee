"""Every task, one short definition each. UVCBench: 8 single + 10 compound tasks (uvcbench.md); plus T2V and
inpainting for training. Official spellings are aliases."""
from uvc_data.tasks.registry import CONTROL_CONDITIONS, Family, TaskDef, register

register(TaskDef("t2v", Family.T2V, "text to video", bench=False, aliases=("T2V", "text2video")))
register(TaskDef("r2v", Family.R2V, "reference images to video", references=True, aliases=("R2v",)))

_CONTROL_ALIASES = {"gray": ("grey", "colorization"), "scribble": ("sketch",)}
for c in CONTROL_CONDITIONS:
    register(TaskDef(c, Family.V2V, f"{c}-controlled video generation", control=c, aliases=_CONTROL_ALIASES.get(c, ())))

register(TaskDef("outpainting", Family.MV2V, "expand the frame border of a video", keep="inside",
                 aliases=("outpaint",)))
register(TaskDef("extension", Family.MV2V, "first frame given, the rest generated", keep="first_frame",
                 aliases=("firstframe", "first_frame")))
register(TaskDef("inpainting", Family.MV2V, "regenerate a masked region", keep="outside_mask", bench=False,
                 aliases=("inpaint",)))

for c in CONTROL_CONDITIONS:
    spellings = (c, *_CONTROL_ALIASES.get(c, ()))
    register(TaskDef(f"reference+{c}", Family.R2V, f"reference images + {c} control", control=c, references=True,
                     compound=True, aliases=tuple(f"ref+{s}" for s in spellings[1:]) + tuple(f"reference+{s}" for s in spellings[1:])))
    register(TaskDef(f"firstframe+{c}", Family.MV2V, f"first frame + {c} control for the rest", control=c,
                     keep="first_frame", compound=True,
                     aliases=tuple(f"firstframe+{s}" for s in spellings[1:]) + tuple(f"extension+{s}" for s in spellings)))
