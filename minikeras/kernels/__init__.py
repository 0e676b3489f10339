"""Stateless NumPy kernels (forward and backward pairs) used by the layers."""
