"""The domain-agnostic CycleGAN engine: tensors in, tensors out.

Importing the package registers every network module with the name registries, so a recipe can pick
any of them by name.  Nothing here imports librosa, pyworld, pretty_midi or PIL.
"""

from . import discriminators, generators, image_nets, mel_generators, music_nets, vocoder_nets  # noqa: F401  (registration side effects)
