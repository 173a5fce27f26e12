"""Nuwa host tools: build the image, boot it, drive targets, measure."""
