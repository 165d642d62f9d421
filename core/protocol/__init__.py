"""The protocol every HyperFuse number follows (PROTOCOL.md): how an LR/HR pair lines up
(grids), how a scene is degraded into a pair (degradation, spectral responses, simulation),
and how a fusion is scored (metrics). Also the bicubic up-sampler and the outlier rule that
keeps wild pixels out of global statistics.
"""
