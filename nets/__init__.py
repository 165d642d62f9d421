"""PyTorch networks, one module per published method, plus shared blocks.

No module here reads or writes files or knows about QGIS. Every network has the common
interface ``forward(lr_hsi, hr_msi) -> hr_hsi`` on (N, S, h, w) and (N, s, r·h, r·w)
tensors, declares ``receptive_field(ratio)`` in HR pixels (the halo the tiled engine
reads around each block) and ``training_loss(lr_hsi, hr_msi, target, mask)``, the loss
of its paper.
"""
