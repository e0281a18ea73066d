"""The tasks: one self-contained folder each (voice, music, image), over the shared contract in
:mod:`.base`.  The runner knows which tasks exist; no task imports another."""
