"""Running a fusion: the model (bundled, a weights file, or trained on the inputs), weights
files and their validation, unit matching, and tiled inference into the output raster.
"""
