"""Training a network: the trainer (patches, validation, best weights, early stopping), the
runs that turn files into training data and a weights file with its model card, and the
HTML training log.
"""
