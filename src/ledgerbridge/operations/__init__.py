"""Operating the platform: what platform staff see across every company."""
