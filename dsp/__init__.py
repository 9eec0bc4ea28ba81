"""Pure NumPy/SciPy signal processing: IQ -> spectrum -> emissions -> measurements.

No I/O and no imports of other rfwatch packages (docs/ARCHITECTURE.md).
"""
