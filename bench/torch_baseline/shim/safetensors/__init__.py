"""Stand-in for the safetensors package where it is not installed (see bench/torch_baseline/README.md)."""
