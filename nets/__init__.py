"""PyTorch networks, one module per published method, plus shared blocks.

No module here reads or writes files or knows about QGIS. Every network provides the
contract of :mod:`.contract`: ``forward(lr_hsi, hr_msi) -> hr_hsi`` on (N, S, h, w) and
(N, s, r·h, r·w) tensors, ``receptive_field(ratio)`` in HR pixels (the halo the tiled
engine reads around each block), ``alignment(ratio)`` (what block origins must be
multiples of) and ``training_loss(lr_hsi, hr_msi, target, mask)``, the loss of its paper;
some also set parts of themselves from data (``initialise_from_data``).
"""
