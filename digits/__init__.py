"""What the three scripts and network.py rest on: data, preprocessing, augmentation, model files,
the drawing page's server, the training report and the command-line edge."""
