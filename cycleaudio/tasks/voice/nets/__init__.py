"""The voice task's networks; importing this package registers them by name for recipes.

``world_generators``: CycleGAN-VC (1-D gated CNN) and CycleGAN-VC2 (2-1-2D); ``mel_generators``:
MaskCycleGAN-VC and CycleGAN-VC3 (TFAN, :mod:`.tfan`); ``discriminators``: the gated PatchGAN.
"""

from . import discriminators, mel_generators, world_generators  # noqa: F401  (registration side effects)
