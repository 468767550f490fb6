"""Plain nn.Modules with explicit arguments: what the configs in configs/model/ build."""
