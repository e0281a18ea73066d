"""The domain-agnostic CycleGAN engine: tensors in, tensors out.

Shared building blocks, the CycleGAN objective, losses, history pool, schedules, the step loop and
trainers, checkpoints, data-parallel training, logging and the domain classifier.  It imports nothing
of cycleaudio above it and none of librosa, pyworld, pretty_midi, PIL or soundfile; the tasks register
their own networks.
"""
