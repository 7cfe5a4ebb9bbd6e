"""The MP4 writer: H.264 / yuv420p through imageio-ffmpeg's bundled ffmpeg, bit-exact run to run."""
from __future__ import annotations

import os

import numpy as np

from visualizer.errors import EncoderError


def ffmpeg_exe():
    try:
        import imageio_ffmpeg
        return imageio_ffmpeg.get_ffmpeg_exe()
    except Exception as e:           # ImportError or RuntimeError("No ffmpeg exe could be found")
        raise EncoderError(f"--format mp4: no ffmpeg encoder found ({type(e).__name__}: {e}); "
                           "install imageio-ffmpeg (pip install imageio-ffmpeg) or set IMAGEIO_FFMPEG_EXE") from None


MP4_PARAMS = ["-preset", "medium", "-crf", "20", "-movflags", "+faststart", "-threads", "1",
              "-fflags", "+bitexact", "-flags:v", "+bitexact", "-map_metadata", "-1", "-f", "mp4"]


def write_mp4(frames, path, fps, size):
    exe = ffmpeg_exe()
    import imageio_ffmpeg
    os.environ.setdefault("IMAGEIO_FFMPEG_EXE", exe)
    gen = imageio_ffmpeg.write_frames(path, size, fps=fps, codec="libx264", pix_fmt_in="rgb24",
                                      pix_fmt_out="yuv420p", quality=None, macro_block_size=1,
                                      ffmpeg_log_level="error", output_params=list(MP4_PARAMS))
    try:
        gen.send(None)
        for f in frames:
            gen.send(np.ascontiguousarray(f).tobytes())
    except (OSError, RuntimeError) as e:
        raise EncoderError(f"--format mp4: ffmpeg failed ({e})") from None
    finally:
        gen.close()                      # also on Ctrl-C / SIGTERM: ffmpeg stops before the file is removed
