"""What a video can be, the checks made before sending it, and reading local files."""
