"""Export the student to a diffusers WanVACEPipeline directory (4-step use: UniPC with the flow shift baked into the
scheduler config, guidance_scale=1). The VAE, text encoder and tokenizer come from the teacher dir."""
from __future__ import annotations

import shutil
from pathlib import Path

from vdot_train.models.denoiser import Denoiser
from vdot_train.models.loading import component_dir, tokenizer_dir

HOW = ("export needs the teacher's diffusers dir with vae/, text_encoder/ and tokenizer/ (e.g. "
       "Wan2.1-VACE-14B-diffusers); models trained with the pixel codec have no VAE and cannot become a WanVACEPipeline")


def export_vace_pipeline(weights: str | Path, teacher_dir: str | Path, out_dir: str | Path, shift: float = 16.0,
                         prefer_ema: bool = False) -> Path:
    """Write `out_dir` (atomically: tmp + rename) loadable by `WanVACEPipeline.from_pretrained`."""
    from diffusers import AutoencoderKLWan, UniPCMultistepScheduler, WanVACEPipeline
    from transformers import AutoTokenizer, UMT5EncoderModel

    from vdot_train.trainer.checkpoint import load_student_weights

    teacher_dir = Path(teacher_dir)
    vae = AutoencoderKLWan.from_pretrained(component_dir(teacher_dir, "vae", "the Wan VAE", HOW))
    text_encoder = UMT5EncoderModel.from_pretrained(component_dir(teacher_dir, "text_encoder", "the UMT5 encoder", HOW))
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir(teacher_dir, "the UMT5 tokenizer", HOW))
    student = Denoiser.from_dir(teacher_dir, "vace")
    load_student_weights(student, weights, prefer_ema=prefer_ema)
    scheduler = UniPCMultistepScheduler(prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=shift,
                                        num_train_timesteps=1000)
    pipe = WanVACEPipeline(tokenizer=tokenizer, text_encoder=text_encoder, vae=vae, scheduler=scheduler,
                           transformer=student.transformer)
    out = Path(out_dir)
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    pipe.save_pretrained(tmp)
    if out.exists():
        shutil.rmtree(out)
    tmp.rename(out)
    return out

